// Live notifications in the header: a progressive enhancement of the server-rendered badge
// and list (templates/base.html). It listens on the feed socket, which pushes
//   {"type": "notification", "notification": {...}, "unread_count": n}
//   {"type": "notifications.read", "unread_count": n}
// Without JavaScript, or while the socket is down, the page still shows the truth as of its
// last load. Reconnects with a capped back-off.

const root = document.querySelector("[data-notifications]");
const badge = root?.querySelector("[data-notifications-count]");
const list = root?.querySelector("[data-notifications-list]");
const LIST_LIMIT = 10;

function setCount(count) {
  if (!badge) return;
  // The number, then " unread" for screen readers: the summary's name is its visible text.
  const unread = document.createElement("span");
  unread.className = "visually-hidden";
  unread.textContent = " unread";
  badge.replaceChildren(String(count), unread);
  badge.hidden = count <= 0;
}

function prepend(notification) {
  if (!list) return;
  list.querySelector("[data-notifications-empty]")?.remove();
  const item = document.createElement("li");
  item.className = "notification" + (notification.read ? "" : " notification--unread");
  const link = document.createElement("a");
  link.href = notification.room.link;
  link.textContent = notification.text; // text, never HTML: titles come from users
  item.append(link);
  list.prepend(item);
  while (list.children.length > LIST_LIMIT) list.lastElementChild.remove();
}

function connect(delay) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/ws/feed/`);
  socket.addEventListener("open", () => { delay = 1000; });
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    if (message.type === "notification") {
      prepend(message.notification);
      setCount(message.unread_count);
    } else if (message.type === "notifications.read") {
      setCount(message.unread_count);
      list?.querySelectorAll(".notification--unread")
        .forEach((item) => item.classList.remove("notification--unread"));
    }
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4003) return; // signed out: nothing to listen to
    setTimeout(() => connect(Math.min(delay * 2, 30000)), delay);
  });
}

if (root && "WebSocket" in window) connect(1000);
