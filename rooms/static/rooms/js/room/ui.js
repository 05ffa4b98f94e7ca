// Drawing the room: the video grid and the people lists. Pure rendering from the state the
// controller passes in; every action is a callback.

import { h, avatar } from "../lib/dom.js";
import { icons } from "./icons.js";
import { isModeratorRole } from "./state.js";
import { gettext, interpolate, pgettext } from "../lib/i18n.js";

const ROLE_LABELS = { host: gettext("Host"), cohost: gettext("Co-host") };
const ROLE_WORDS = { host: gettext("host"), cohost: gettext("co-host") };

/** Columns for n tiles: a near-square grid, at most 8 wide (50 people). */
export function columnsFor(n) {
  return Math.max(1, Math.min(8, Math.ceil(Math.sqrt(n))));
}

function describe(person, { isMe, speaking, kind, cameraOff }) {
  const parts = [kind === "screen" ? interpolate(gettext("%(name)s's screen"), { name: person.display_name }) : person.display_name];
  if (isMe && kind !== "screen") parts.push(gettext("you"));
  if (ROLE_WORDS[person.role]) parts.push(ROLE_WORDS[person.role]);
  if (kind !== "screen") {
    if (person.audio_muted) parts.push(gettext("muted"));
    if (cameraOff) parts.push(gettext("camera off"));
    if (person.hand_raised) parts.push(gettext("hand raised"));
    if (speaking) parts.push(gettext("speaking"));
  }
  return parts.join(pgettext("list separator", ", "));
}

export class Grid {
  constructor(element, { onFirstFrame }) {
    this.el = element;
    this.tiles = new Map();
    this.onFirstFrame = onFirstFrame;
    // People moved to the front of the grid because they spoke while out of view, most recent first.
    this.front = [];
  }

  /**
   * @param {{roster: object[], meId: number, localTrack: MediaStreamTrack|null,
   *          cameraOn: boolean, videoByPid: Map, screenByPid: Map, speakers: number[]}} view
   */
  render(view, reordering = false) {
    // A screen share is the presenter layout: shares first, large and uncropped, everyone
    // else in a strip below them.
    const screens = [];
    const cameras = [];
    for (const person of this._ordered(view.roster)) {
      cameras.push({ key: `p${person.id}`, person, kind: "camera" });
      if (view.screenByPid.has(person.id)) screens.push({ key: `s${person.id}`, person, kind: "screen" });
    }
    const entries = [...screens, ...cameras];
    const keys = new Set(entries.map((e) => e.key));
    for (const [key, tile] of this.tiles) {
      if (!keys.has(key)) {
        tile.video.srcObject = null;
        tile.el.remove();
        this.tiles.delete(key);
      }
    }
    entries.forEach((entry, index) => {
      let tile = this.tiles.get(entry.key);
      if (!tile) {
        tile = this._create(entry);
        this.tiles.set(entry.key, tile);
      }
      this._update(tile, entry, view);
      if (this.el.children[index] !== tile.el) this.el.insertBefore(tile.el, this.el.children[index] || null);
    });
    const presenting = screens.length > 0;
    this.el.classList.toggle("is-presenting", presenting);
    this.el.style.setProperty("--screens", String(screens.length || 1));
    this.el.style.setProperty("--cols", String(presenting ? Math.min(8, cameras.length) : columnsFor(entries.length)));
    this.el.dataset.count = String(entries.length);
    if (!reordering && this._promoteHiddenSpeakers(view.speakers)) this.render(view, true);
  }

  /** The roster with the people in `front` first (most recent speaker first), the rest in roster order. */
  _ordered(roster) {
    const present = new Set(roster.map((p) => p.id));
    this.front = this.front.filter((pid) => present.has(pid));
    const rank = new Map(this.front.map((pid, i) => [pid, i]));
    const first = roster.filter((p) => rank.has(p.id)).sort((a, b) => rank.get(a.id) - rank.get(b.id));
    return [...first, ...roster.filter((p) => !rank.has(p.id))];
  }

  /**
   * A speaker whose tile is scrolled out of the grid (less than half of it showing) moves to the
   * front, where the grid starts. Returns whether the order changed.
   */
  _promoteHiddenSpeakers(speakers) {
    const box = this.el.getBoundingClientRect();
    if (box.height === 0) return false; // not laid out (hidden): nothing is "out of view"
    let changed = false;
    for (const pid of [...speakers].reverse()) {
      const tile = this.tiles.get(`p${pid}`);
      if (!tile) continue;
      const r = tile.el.getBoundingClientRect();
      const shown = Math.min(r.bottom, box.bottom) - Math.max(r.top, box.top);
      if (r.height > 0 && shown >= r.height / 2) continue;
      // Already among the first: the grid is too small for them all, or the visitor scrolled away.
      if (this.front.slice(0, speakers.length).includes(pid)) continue;
      this.front = [pid, ...this.front.filter((p) => p !== pid)];
      changed = true;
    }
    return changed;
  }

  _create(entry) {
    const isScreen = entry.kind === "screen";
    const video = h("video", { autoplay: true, playsinline: true, muted: true });
    video.muted = true; // audio comes through the audio slots, never the tiles
    const avatarWrap = h("div", { class: "tile__avatar" }, avatar(entry.person.display_name, "avatar--xl"));
    const name = h("span", { class: "tile__name" });
    const badges = h("span", { class: "tile__badges" });
    const el = h(
      "div",
      { class: `tile${isScreen ? " tile--screen" : ""}`, role: "listitem", dataset: { pid: entry.person.id, kind: entry.kind } },
      video,
      avatarWrap,
      h("div", { class: "tile__label" }, name, badges),
    );
    const tile = { el, video, name, badges, avatarWrap, track: null, seenFrame: false };
    return tile;
  }

  _update(tile, entry, view) {
    const person = entry.person;
    const isMe = person.id === view.meId;
    const speaking = view.speakers.includes(person.id);
    // Camera off is a state the roster carries (the SFU forwards none of it): initials and
    // a mark, never a black or frozen picture.
    const cameraOff = entry.kind === "camera" && (isMe ? !view.cameraOn : Boolean(person.camera_off));
    let track = null;
    if (entry.kind === "screen") track = view.screenByPid.get(person.id) || null;
    else if (isMe) track = view.cameraOn ? view.localTrack : null;
    else if (!cameraOff) track = view.videoByPid.get(person.id) || null;
    if (track !== tile.track) {
      tile.track = track;
      tile.video.srcObject = track ? new MediaStream([track]) : null;
      tile.video.classList.toggle("remote", Boolean(track) && !isMe);
      tile.video.classList.toggle("local", isMe && entry.kind === "camera");
      if (track && !isMe) this._watchFirstFrame(tile);
    }
    const showVideo = Boolean(track);
    tile.el.classList.toggle("has-video", showVideo);
    tile.el.classList.toggle("is-self", isMe);
    tile.el.classList.toggle("is-camera-off", cameraOff);
    tile.el.classList.toggle("is-speaking", entry.kind === "camera" && speaking);
    tile.el.classList.toggle("is-active", entry.kind === "camera" && view.speakers[0] === person.id);
    tile.el.setAttribute("aria-label", describe(person, { isMe, speaking, kind: entry.kind, cameraOff }));
    const label =
      entry.kind === "screen"
        ? interpolate(gettext("%(name)s (screen)"), { name: person.display_name })
        : isMe
          ? interpolate(gettext("%(name)s (you)"), { name: person.display_name })
          : person.display_name;
    if (tile.name.textContent !== label) tile.name.textContent = label;
    const badges = [];
    if (entry.kind === "camera") {
      if (ROLE_LABELS[person.role]) badges.push(h("span", { class: "tile-badge" }, ROLE_LABELS[person.role]));
      if (person.hand_raised) {
        const hand = h("span", { class: "tile-badge tile-badge--hand", title: gettext("Hand raised") });
        hand.innerHTML = icons.hand;
        badges.push(hand);
      }
      if (person.audio_muted) {
        const muted = h("span", { class: "tile-badge tile-badge--muted", title: gettext("Muted") });
        muted.innerHTML = icons.mutedSmall;
        badges.push(muted);
      }
      if (cameraOff) {
        const off = h("span", { class: "tile-badge tile-badge--camera-off", title: gettext("Camera off") });
        off.innerHTML = icons.camOff;
        badges.push(off);
      }
    }
    tile.badges.replaceChildren(...badges);
  }

  _watchFirstFrame(tile) {
    const video = tile.video;
    const report = () => this.onFirstFrame?.(video);
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(report);
    else video.addEventListener("loadeddata", report, { once: true });
  }
}

/**
 * One person in a list, with the actions this viewer may take.
 * @param {{meId: number, canModerate: boolean, withReport: boolean, onAction: Function}} opts
 */
export function personRow(person, { meId, canModerate, withReport, onAction, amHost }) {
  const isMe = person.id === meId;
  const info = h(
    "div",
    { class: "person__who" },
    avatar(person.display_name),
    h(
      "span",
      {},
      h("span", { class: "person__name" }, isMe ? interpolate(gettext("%(name)s (you)"), { name: person.display_name }) : person.display_name),
      h(
        "span",
        { class: "person__username" },
        [
          ROLE_LABELS[person.role],
          person.is_guest ? gettext("Guest") : null,
          person.audio_muted ? gettext("Muted") : null,
          person.hand_raised ? gettext("Hand raised") : null,
          person.connected === false ? gettext("Reconnecting") : null,
        ]
          .filter(Boolean)
          .join(" · "),
      ),
    ),
  );
  const actions = h("div", { class: "person__actions" });
  const button = (action, [text, label], cls = "button--quiet") =>
    h(
      "button",
      {
        type: "button",
        class: `button ${cls} button--small`,
        dataset: { focusKey: `${action}-${person.id}` },
        "aria-label": interpolate(label, { name: person.display_name }),
        onclick: () => onAction(action, person),
      },
      text,
    );
  if (canModerate && !isMe) {
    // A co-host may not remove the host or another co-host; the server says so too.
    const targetIsModerator = isModeratorRole(person.role);
    if (person.audio_muted) actions.append(button("ask-unmute", [gettext("Ask to unmute"), gettext("Ask to unmute %(name)s")]));
    else actions.append(button("mute", [gettext("Mute"), gettext("Mute %(name)s")]));
    if (person.role !== "host" && (amHost || !targetIsModerator)) actions.append(button("remove", [gettext("Remove"), gettext("Remove %(name)s")], "button--danger"));
    // Only the host names co-hosts, and only people with an account can be one.
    if (amHost && person.user_id !== null && person.role === "participant") actions.append(button("make-cohost", [gettext("Make co-host"), gettext("Make co-host %(name)s")]));
    if (amHost && person.role === "cohost") actions.append(button("drop-cohost", [gettext("Remove as co-host"), gettext("Remove as co-host %(name)s")]));
  }
  if (withReport && !isMe) actions.append(button("report", [gettext("Report"), gettext("Report %(name)s")]));
  return h("li", { class: "person", dataset: { pid: person.id } }, info, actions);
}

export function lobbyRow(person, onAction) {
  const button = (action, [text, label], cls) =>
    h(
      "button",
      {
        type: "button",
        class: `button ${cls} button--small`,
        dataset: { focusKey: `${action}-${person.id}` },
        "aria-label": interpolate(label, { name: person.display_name }),
        onclick: () => onAction(action, person),
      },
      text,
    );
  return h(
    "li",
    { class: "person", dataset: { pid: person.id } },
    h(
      "div",
      { class: "person__who" },
      avatar(person.display_name),
      h(
        "span",
        {},
        h("span", { class: "person__name" }, person.display_name),
        h("span", { class: "person__username" }, person.is_guest ? gettext("Guest") : gettext("Has an account")),
      ),
    ),
    h("div", { class: "person__actions" }, button("admit", [gettext("Admit"), gettext("Admit %(name)s")], ""), button("deny", [gettext("Deny"), gettext("Deny %(name)s")], "button--quiet")),
  );
}

/** Replace a list's rows, keeping keyboard focus on the same control when it still exists. */
export function replaceList(list, rows) {
  const focused = document.activeElement;
  const key = focused && list.contains(focused) ? focused.dataset.focusKey : null;
  list.replaceChildren(...rows);
  if (key) {
    const again = list.querySelector(`[data-focus-key="${key}"]`);
    if (again) again.focus();
    else list.closest(".panel")?.querySelector("h2")?.focus();
  }
}
