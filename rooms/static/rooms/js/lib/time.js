// A room's start time, written one way everywhere (cards, the pre-join and waiting screens),
// in the reader's time zone and locale, with the zone named: "Thu, Dec 3, 7:30 PM CET".

const FORMAT = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
  timeZoneName: "short",
});

/** "Thu, Dec 3, 7:30 PM CET" for an ISO 8601 instant ("" when there is none or it is invalid). */
export function formatStart(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : FORMAT.format(date);
}

/** A <time> for a start, as rooms/_start_time.html draws it. */
export function startTime(iso) {
  const el = document.createElement("time");
  el.dateTime = iso;
  el.dataset.roomsStart = "";
  el.textContent = formatStart(iso);
  return el;
}

/** Redraw the server-rendered starts (<time data-rooms-start>) under `root` in the reader's zone. */
export function localizeStarts(root = document) {
  for (const el of root.querySelectorAll("time[data-rooms-start]")) {
    const text = formatStart(el.getAttribute("datetime"));
    if (text && el.textContent !== text) el.textContent = text;
  }
}
