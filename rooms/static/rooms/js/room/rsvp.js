// "I'll be there" on the pre-join screen of a scheduled room (signed-in people other than the
// host; the page's config.rsvp says whether they said yes and how many did).

import { api } from "../lib/api.js";
import { announce, toast } from "../lib/dom.js";
import { $, config, urls } from "./context.js";
import { formatNumber, gettext, interpolate, ngettext } from "../lib/i18n.js";

function paint({ going, count }) {
  $("rsvp-button").setAttribute("aria-pressed", String(going));
  const others = count - (going ? 1 : 0);
  $("rsvp-count").textContent =
    count === 0
      ? ""
      : going
        ? others
          ? interpolate(ngettext("You and %(count)s more person are going.", "You and %(count)s more people are going.", others), { count: formatNumber(others) })
          : gettext("You're going.")
        : interpolate(ngettext("%(count)s person is going.", "%(count)s people are going.", count), { count: formatNumber(count) });
}

export function setUpRsvp() {
  const button = $("rsvp-button");
  if (!button || !config.rsvp) return;
  paint(config.rsvp);
  button.addEventListener("click", async () => {
    const yes = button.getAttribute("aria-pressed") !== "true";
    button.disabled = true;
    try {
      const state = await api(yes ? "POST" : "DELETE", `${urls.api}rsvp/`);
      paint(state);
      const text = yes ? gettext("You'll be there. You'll get a reminder before it starts.") : gettext("You're no longer going.");
      announce(text);
      toast(text);
    } catch (error) {
      announce(error.message, { assertive: true });
      toast(error.message);
    } finally {
      button.disabled = false;
    }
  });
}
