// Small DOM helpers shared by the feed and the room.

/** h("button", {class: "x", onclick: fn}, "text", child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let lastAnnouncement = 0;

// The page's aria-live regions: a site's base template may have them (the reference site's
// base.html does); otherwise they are added the first time something is announced.
function liveRegion(assertive) {
  const id = assertive ? "alerts" : "announcer";
  let region = document.getElementById(id);
  if (!region) {
    region = h("div", {
      id,
      class: "visually-hidden",
      "aria-live": assertive ? "assertive" : "polite",
      "aria-atomic": "true",
    });
    document.body.append(region);
  }
  return region;
}

/** Tell screen-reader users about a change. */
export function announce(text, { assertive = false } = {}) {
  const region = liveRegion(assertive);
  // Clearing first makes a repeated message be read again.
  region.textContent = "";
  const stamp = ++lastAnnouncement;
  setTimeout(() => {
    if (stamp === lastAnnouncement || assertive) region.textContent = text;
  }, 60);
}

export function initials(name) {
  const words = String(name || "?").trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || "?").slice(0, 2);
  return letters.toUpperCase();
}

// A stable pastel colour per name, so the same person always looks the same.
export function avatarHue(name) {
  let hash = 0;
  for (const ch of String(name)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

export function avatar(name, extraClass = "") {
  // A name's initials: what the person wrote, never translated.
  const el = h("span", { class: `avatar ${extraClass}`.trim(), "aria-hidden": "true", translate: "no" }, initials(name));
  el.style.setProperty("--hue", String(avatarHue(name)));
  return el;
}

let toastTimer = 0;

export function toast(text) {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}
