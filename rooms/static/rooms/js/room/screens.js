// The screens shown while someone is not (or no longer) in the room, and why.
// Keys are the API's error codes (rooms/services/, rooms/policy.py), the lobby reasons and
// the socket's closing messages.

import { h, announce } from "../lib/dom.js";
import { gettext, interpolate } from "../lib/i18n.js";
import { formatStart, startsSentence } from "../lib/time.js";
import { icons } from "./icons.js";

const REASONS = {
  waiting_for_host: {
    icon: "clock",
    title: gettext("Waiting for the host"),
    message: (ctx) => interpolate(gettext("You'll be let in as soon as %(host)s arrives."), { host: ctx.hostName }),
    actions: ["leave"],
    waiting: true,
  },
  waiting_room: {
    icon: "clock",
    title: gettext("Waiting to be let in"),
    message: () => gettext("The host knows you're here and will let you in soon."),
    actions: ["leave"],
    waiting: true,
  },
  not_started: {
    icon: "clock",
    title: gettext("This room hasn't started yet"),
    message: () => gettext("You'll be let in when it starts."),
    actions: ["leave"],
    waiting: true,
  },
  waiting: {
    icon: "clock",
    title: gettext("Waiting to be let in"),
    message: () => gettext("You'll be let in soon."),
    actions: ["leave"],
    waiting: true,
  },
  denied: {
    icon: "stop",
    title: gettext("You weren't let in"),
    message: (ctx) =>
      ctx.by === "cohost"
        ? gettext("A co-host didn't let you in, so you can't join this room right now.")
        : gettext("The host didn't let you in, so you can't join this room right now."),
    actions: ["home"],
  },
  locked: {
    icon: "lock",
    title: gettext("This room is locked"),
    // The server says who locked it (in the reader's language): the host, a co-host or a moderator.
    message: (ctx) =>
      interpolate(gettext("%(reason)s Nobody new can come in until it's unlocked."), {
        reason: ctx.message || gettext("This room is locked."),
      }),
    actions: ["retry", "home"],
  },
  host_away: {
    icon: "clock",
    title: gettext("The host stepped away"),
    message: () => gettext("Nobody new can come in until the host is back. Try again in a little while."),
    actions: ["retry", "home"],
  },
  full: {
    icon: "users",
    title: gettext("This room is full"),
    message: () => gettext("Every seat is taken. Try again in a little while."),
    actions: ["retry", "home"],
  },
  removed: {
    icon: "stop",
    title: gettext("You were removed from this room"),
    message: (ctx) =>
      ctx.by === "cohost"
        ? gettext("A co-host removed you, so you can't come back to this room.")
        : gettext("The host removed you, so you can't come back to this room."),
    actions: ["home"],
  },
  banned: {
    icon: "stop",
    title: gettext("You can't join this room"),
    message: () => gettext("You were removed from this room earlier, so you can't come back."),
    actions: ["home"],
  },
  ended: {
    icon: "door",
    title: gettext("This room has ended"),
    // Who did it: the host, a co-host, a moderator of the site, or the room itself.
    message: (ctx) =>
      ({
        host: gettext("The host ended the room for everyone."),
        cohost: gettext("A co-host ended the room for everyone."),
        moderator: gettext("A moderator of the site ended this room."),
        idle: gettext("The room ended by itself after everyone had left."),
        no_show: gettext("The room ended because the host didn't come."),
      })[ctx.endedBy] || gettext("This room is over."),
    actions: ["home"],
  },
  left: {
    icon: "door",
    title: gettext("You left the room"),
    message: () => "",
    actions: ["rejoin", "home"],
  },
  replaced: {
    icon: "door",
    title: gettext("You're in this room somewhere else"),
    message: () => gettext("You opened this room in another tab or on another device."),
    actions: ["rejoin", "home"],
  },
  suspended: {
    icon: "stop",
    title: gettext("You can't join rooms"),
    message: () => gettext("Your account is suspended."),
    actions: ["home"],
  },
  sign_in_required: {
    icon: "lock",
    title: gettext("Sign in to join"),
    message: () => gettext("The host lets only people signed in to the site into this room."),
    actions: ["signin"],
  },
  too_many_attempts: {
    icon: "lock",
    title: gettext("Too many wrong passwords"),
    message: () => gettext("Wait a while, then try again."),
    actions: ["retry", "home"],
  },
  room_not_found: {
    icon: "stop",
    title: gettext("This room doesn't exist"),
    message: () => gettext("The link may be mistyped, or the room isn't available to you."),
    actions: ["home"],
  },
  connection_lost: {
    icon: "wifi",
    title: gettext("Connection lost"),
    message: () => gettext("We couldn't reconnect you to the room."),
    actions: ["rejoin", "home"],
  },
};

const ACTION_LABELS = {
  leave: gettext("Leave"),
  home: gettext("Back to the site"),
  retry: gettext("Try again"),
  rejoin: gettext("Rejoin"),
  signin: gettext("Sign in"),
};

// Icons that point somewhere mirror in right-to-left pages (rooms.css: .icon--directional).
const DIRECTIONAL_ICONS = new Set(["door"]);

export function reasonKnown(reason) {
  return reason in REASONS;
}

/**
 * Show the waiting screen for `reason`.
 * @param {{hostName: string, signedIn: boolean, signInUrl?: string, homeUrl?: string,
 *          detail?: string, by?: string, message?: string, on: Record<string, () => void>}} ctx
 *   `by`: who removed or turned the person away ("host" | "cohost"); `message`: the API's own words
 */
export function showWaitScreen(reason, ctx) {
  const spec = REASONS[reason] || {
    icon: "stop",
    title: gettext("You can't join this room"),
    message: () => ctx.message || gettext("Something went wrong."),
    actions: ["retry", "home"],
  };
  for (const id of ["screen-prejoin", "screen-room"]) document.getElementById(id).hidden = true;
  const screen = document.getElementById("screen-wait");
  screen.hidden = false;
  screen.dataset.reason = reason;
  const icon = document.getElementById("wait-icon");
  icon.innerHTML = icons[spec.icon] || "";
  icon.classList.toggle("notice__icon--pulse", Boolean(spec.waiting));
  icon.classList.toggle("icon--directional", DIRECTIONAL_ICONS.has(spec.icon));
  const heading = document.getElementById("wait-heading");
  heading.textContent = spec.title;
  const message = spec.message(ctx);
  document.getElementById("wait-message").textContent = message;
  const detail = document.getElementById("wait-detail");
  detail.textContent = ctx.detail ? interpolate(gettext("Reason: %(reason)s"), { reason: ctx.detail }) : "";
  detail.hidden = !ctx.detail;
  // While waiting for a scheduled room: when it starts, in the reader's time zone.
  const start = document.getElementById("wait-start");
  const startsAt = spec.waiting && ctx.scheduledStart && new Date(ctx.scheduledStart) > Date.now() ? ctx.scheduledStart : null;
  start.replaceChildren(...(startsAt ? startsSentence(startsAt) : []));
  start.hidden = !startsAt;
  const actions = document.getElementById("wait-actions");
  actions.replaceChildren();
  for (const action of spec.actions) {
    if (action === "home") {
      // Every final screen has a way onward: back to the site, and for a guest also signing in.
      if (!ctx.signedIn && ctx.signInUrl) actions.append(h("a", { class: "button", href: ctx.signInUrl }, ACTION_LABELS.signin));
      if (ctx.homeUrl) actions.append(h("a", { class: "button button--quiet", href: ctx.homeUrl }, ACTION_LABELS.home));
    } else if (action === "signin") {
      if (ctx.signInUrl) actions.append(h("a", { class: "button", href: ctx.signInUrl }, ACTION_LABELS.signin));
    } else if (ctx.on[action]) {
      actions.append(
        h("button", { type: "button", class: "button", onclick: ctx.on[action] }, ACTION_LABELS[action]),
      );
    }
  }
  heading.focus();
  const said = interpolate(gettext("%(title)s. %(message)s"), { title: spec.title, message });
  const when = startsAt ? interpolate(gettext("Starts %(time)s."), { time: formatStart(startsAt) }) : "";
  announce(when ? `${said} ${when}` : said, { assertive: !spec.waiting });
}
