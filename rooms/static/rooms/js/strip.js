// Room cards at the top of a site's feed (Rooms' strip, {% rooms_strip %}), kept live over the
// feed socket (rooms/feed_socket.py). The strip loads this module itself, so any site that
// renders the tag gets live cards. A card is drawn exactly like
// rooms/templates/rooms/_room_card.html. Where the socket and GET rooms/feed/ are comes from the
// strip ("rooms-strip-config"), under whatever prefix the site mounted Rooms.

import { api } from "./lib/api.js";
import { h, announce, avatar, toast } from "./lib/dom.js";
import { formatNumber, gettext, interpolate, listParts, ngettext } from "./lib/i18n.js";
import { localizeStarts, startsSentence } from "./lib/time.js";

// "Starts <time>": the sentence is translated whole, the moment goes where the language puts it.
function formatStart(iso) {
  if (!iso) return gettext("Starts when the host arrives");
  return h("span", {}, ...startsSentence(iso));
}

// "With a, b, c and 2 more", joined as the language joins lists; the names are user content.
function friendsInside(friends) {
  const more = friends.length - 3;
  const items = friends.slice(0, 3).map((f) => f.display_name);
  const moreText = more > 0 ? interpolate(ngettext("%(count)s more", "%(count)s more", more), { count: formatNumber(more) }) : null;
  if (moreText) items.push(moreText);
  const parts = listParts(items).map((part, index) =>
    part.type === "element" && !(moreText && index === 2 * (items.length - 1)) ? h("span", { translate: "no" }, part.value) : part.value,
  );
  const [before, after] = gettext("With %(names)s").split("%(names)s");
  return [before, ...parts, after ?? ""];
}

// The host's name is user content: the sentence is translated, the name is marked translate="no".
function hostedBy(name) {
  const [before, after] = gettext("Hosted by %(name)s").split("%(name)s");
  return h("p", { class: "room-card__host muted" }, before, h("span", { translate: "no" }, name), after ?? "");
}

// "I'll be there": the upcoming rooms this person said yes to (from the strip, then their clicks).
const going = new Set();

function rsvpButton(room) {
  const config = stripConfig();
  if (room.state === "open" || !config.rsvp || room.host?.id === config.me) return null;
  return h(
    "button",
    {
      type: "button",
      class: "button button--quiet room-card__rsvp",
      dataset: { rsvp: room.token },
      "aria-pressed": String(going.has(room.token)),
    },
    gettext("I'll be there"),
    h("span", { class: "visually-hidden", translate: "no" }, ` (${room.title})`),
  );
}

async function toggleRsvp(button) {
  const token = button.dataset.rsvp;
  const yes = button.getAttribute("aria-pressed") !== "true";
  button.disabled = true;
  try {
    await api(yes ? "POST" : "DELETE", stripConfig().rsvp.replace("TOKEN", encodeURIComponent(token)));
    if (yes) going.add(token);
    else going.delete(token);
    button.setAttribute("aria-pressed", String(yes));
    const text = yes ? gettext("You'll be there. You'll get a reminder before it starts.") : gettext("You're no longer going.");
    announce(text);
    toast(text);
  } catch (error) {
    announce(error.message, { assertive: true });
    toast(error.message);
  } finally {
    button.disabled = false;
  }
}

export function renderCard(room) {
  const live = room.state === "open";
  const titleId = `room-${room.token}-title`;
  const header = h(
    "header",
    { class: "room-card__header" },
    h("h3", { class: "room-card__title", id: titleId, translate: "no", dir: "auto" }, room.title),
    live ? h("span", { class: "tag tag--live" }, gettext("Live")) : null,
    room.audience === "invite_only" ? h("span", { class: "tag" }, gettext("Invite only")) : null,
    room.has_password ? h("span", { class: "tag" }, gettext("Password")) : null,
  );
  const body = [header, hostedBy(room.host.display_name)];
  if (room.description) {
    const text = room.description.length > 200 ? `${room.description.slice(0, 199)}…` : room.description;
    body.push(h("p", { class: "room-card__description", translate: "no", dir: "auto" }, text));
  }
  if (live) {
    const n = room.participant_count;
    const inside = ngettext("%(count)s person inside", "%(count)s people inside", n);
    body.push(h("p", { class: "room-card__count" }, interpolate(inside, { count: formatNumber(n) })));
    if (room.host_present === false) {
      body.push(h("p", { class: "room-card__away" }, gettext("The host stepped away.")));
    }
    const friends = room.friends_inside || [];
    if (friends.length) {
      body.push(
        h("ul", { class: "avatars", "aria-hidden": "true" }, friends.slice(0, 5).map((f) => h("li", {}, avatar(f.display_name)))),
      );
      body.push(h("p", { class: "room-card__friends" }, ...friendsInside(friends)));
    }
  } else {
    body.push(h("p", { class: "room-card__start" }, formatStart(room.scheduled_start)));
  }
  body.push(
    h(
      "div",
      { class: "room-card__actions" },
      h("a", { class: "button", href: room.link }, live ? gettext("Join") : gettext("Open"), h("span", { class: "visually-hidden", translate: "no" }, ` ${room.title}`)),
      rsvpButton(room),
    ),
  );
  return h(
    "article",
    { class: `card room-card${live ? " room-card--live" : ""}`, dataset: { token: room.token }, "aria-labelledby": titleId },
    ...body,
  );
}

const $ = (id) => document.getElementById(id);

function findItem(token) {
  return document.querySelector(`.room-list > li[data-token="${CSS.escape(token)}"]`);
}

function refreshSections() {
  $("live-rooms").hidden = $("live-list").children.length === 0;
  $("upcoming-rooms").hidden = $("upcoming-list").children.length === 0;
}

/** Put a card where it belongs: live rooms by people inside, upcoming by start time. */
export function upsertCard(room) {
  const existing = findItem(room.token);
  const wasLive = existing?.parentElement === $("live-list");
  const live = room.state === "open";
  const list = live ? $("live-list") : $("upcoming-list");
  const item = existing || h("li", { dataset: { token: room.token } });
  const card = renderCard(room);
  if (!existing) card.classList.add("is-new");
  const focusedInside = existing && existing.contains(document.activeElement);
  item.replaceChildren(card);
  item.dataset.count = String(room.participant_count);
  item.dataset.start = room.scheduled_start || "";
  if (item.parentElement !== list) list.append(item);
  const items = [...list.children];
  items.sort((a, b) =>
    live
      ? Number(b.dataset.count || 0) - Number(a.dataset.count || 0)
      : (a.dataset.start || "9").localeCompare(b.dataset.start || "9"),
  );
  for (const el of items) if (list.lastElementChild !== el) list.append(el);
  if (focusedInside) item.querySelector("a")?.focus();
  refreshSections();
  if (live && !wasLive) {
    announce(interpolate(gettext("%(host)s’s room “%(title)s” is live."), { host: room.host.display_name, title: room.title }));
  }
}

export function removeCard(token) {
  findItem(token)?.remove();
  refreshSections();
}

// After a dropped socket, changes may have been missed: redraw the rooms from the feed API.
async function resync() {
  let feed;
  try {
    feed = await api("GET", stripConfig().feed);
  } catch {
    return;
  }
  const rooms = [...feed.live, ...feed.upcoming];
  const tokens = new Set(rooms.map((r) => r.token));
  for (const item of document.querySelectorAll(".room-list > li[data-token]")) {
    if (!tokens.has(item.dataset.token)) item.remove();
  }
  for (const room of rooms) upsertCard(room);
  refreshSections();
}

function stripConfig() {
  return JSON.parse($("rooms-strip-config").textContent);
}

/** Listen to the feed socket, reconnecting with a growing delay. */
export function connectFeed() {
  const config = $("rooms-strip-config");
  if (!config) return; // signed out: no strip
  // One socket per page, even when the module is loaded under two URLs (a hashed one from the
  // template, a plain one imported by a site's own script).
  if (config.dataset.connected) return;
  config.dataset.connected = "true";
  for (const token of stripConfig().going || []) going.add(token);
  localizeStarts();
  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("button[data-rsvp]");
    if (button) toggleRsvp(button);
  });
  let delay = 1000;
  let dropped = false;
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}${stripConfig().socket}`);
    ws.addEventListener("open", () => {
      delay = 1000;
      if (dropped) resync();
      dropped = false;
      document.body.dataset.feedLive = "true";
    });
    ws.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "feed.room") upsertCard(message.room);
      else if (message.type === "feed.room_removed") removeCard(message.token);
    });
    ws.addEventListener("close", (event) => {
      document.body.dataset.feedLive = "false";
      if (event.code === 4003) return; // signed out
      dropped = true;
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 30000);
    });
  };
  open();
}

connectFeed();
