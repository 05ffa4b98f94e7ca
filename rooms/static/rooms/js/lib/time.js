// A room's start time, written one way everywhere (cards, the pre-join and waiting screens),
// in the page's language and the reader's time zone, with the zone named: "Thu, Dec 3, 7:30 PM
// CET" (lib/i18n.js's formatDateTime, the one format for a moment).

import { formatDateTime, gettext } from "./i18n.js";

/** "Thu, Dec 3, 7:30 PM CET" for an ISO 8601 instant ("" when there is none or it is invalid). */
export function formatStart(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : formatDateTime(date);
}

/** A <time> for a start, as rooms/_start_time.html draws it. */
export function startTime(iso) {
  const el = document.createElement("time");
  el.dateTime = iso;
  el.dataset.roomsStart = "";
  el.textContent = formatStart(iso);
  return el;
}

/** "Starts <time>" as nodes: the sentence translated whole, the time where the language puts it. */
export function startsSentence(iso) {
  const [before, after] = gettext("Starts %(time)s").split("%(time)s");
  return [before, startTime(iso), after ?? ""];
}

/** Redraw the server-rendered starts (<time data-rooms-start>) under `root` in the reader's zone. */
export function localizeStarts(root = document) {
  for (const el of root.querySelectorAll("time[data-rooms-start]")) {
    const text = formatStart(el.getAttribute("datetime"));
    if (text && el.textContent !== text) el.textContent = text;
  }
}
