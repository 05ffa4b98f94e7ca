// How Rooms' scripts (and the reference site's) speak the page's language.
//
// Strings: Django's JavaScript catalog (rooms:jsi18n, a classic script each page loads before
// its modules) defines `django.gettext` & co. on the global object; these wrappers read it at
// call time, so a module works (in English) even on a page that forgot the catalog. Mark every
// user-facing string with gettext/ngettext/pgettext: `make messages` extracts them into
// rooms/locale/*/LC_MESSAGES/djangojs.po. Put values in with `interpolate` and named
// placeholders, so a translation can move them: interpolate(gettext("Hosted by %(name)s"), {name}).
//
// Dates, times, numbers and lists: `Intl` in the page's language (<html lang>) and the
// person's own time zone (the browser's), one format for each kind of thing everywhere.

const catalog = () => globalThis.django || {};

export function gettext(msgid) {
  const django = catalog();
  return django.gettext ? django.gettext(msgid) : msgid;
}

export function ngettext(singular, plural, count) {
  const django = catalog();
  if (django.ngettext) return django.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

export function pgettext(context, msgid) {
  const django = catalog();
  return django.pgettext ? django.pgettext(context, msgid) : msgid;
}

/** Put `values` into `format`'s %(name)s placeholders. */
export function interpolate(format, values) {
  return format.replace(/%\(([A-Za-z_]\w*)\)s/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole,
  );
}

/** The page's language, as <html lang> says (set by the server from the person's choice). */
export function language() {
  return document.documentElement.lang || "en";
}


const formats = new Map();
function cached(kind, make) {
  const key = `${kind}|${language()}`;
  if (!formats.has(key)) formats.set(key, make(language()));
  return formats.get(key);
}

/** A moment (a room's start, say): weekday, date and time, in the person's time zone. */
export function formatDateTime(value) {
  const date = value instanceof Date ? value : new Date(value);
  return cached(
    "datetime",
    (lang) =>
      new Intl.DateTimeFormat(lang, {
        weekday: "short",
        day: "numeric",
        month: "short",
        hour: "numeric",
        minute: "2-digit",
        timeZoneName: "short",
      }),
  ).format(date);
}


export function formatNumber(value) {
  return cached("number", (lang) => new Intl.NumberFormat(lang)).format(value);
}

/** A share (0.012 → "1.2%"), as the language writes percentages. */
export function formatPercent(share) {
  return cached("percent", (lang) => new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 })).format(share);
}


/** A list of names joined as the language joins them ("a, b and c"; "a وb وc"). */
export function formatList(items) {
  return cached("list", (lang) => new Intl.ListFormat(lang, { style: "long", type: "conjunction" })).format(items);
}

/** The same list as parts ({type: "element" | "literal", value}), to mark the items apart. */
export function listParts(items) {
  return cached("list", (lang) => new Intl.ListFormat(lang, { style: "long", type: "conjunction" })).formatToParts(items);
}

/** Every <time data-format="datetime"> under `root` (a post's moment, say), rewritten in the
 * page's language and the person's time zone: the server's rendering is the fallback. */
export function localizeTimes(root = document) {
  for (const element of root.querySelectorAll("time[datetime][data-format='datetime']")) {
    element.textContent = formatDateTime(element.getAttribute("datetime"));
  }
}
