// The page's dialogs: confirming an action (with an optional reason) and reporting.

import { api } from "../lib/api.js";
import { announce, h, toast } from "../lib/dom.js";
import { $, config, urls } from "./context.js";
import { gettext, interpolate } from "../lib/i18n.js";

export function confirmDialog({ title, message, confirm, withReason = false }) {
  const dialog = $("confirm-dialog");
  $("confirm-heading").textContent = title;
  $("confirm-message").textContent = message;
  $("confirm-ok").textContent = confirm;
  $("confirm-reason-field").hidden = !withReason;
  $("confirm-reason").value = "";
  const opener = document.activeElement;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (opener instanceof HTMLElement && document.contains(opener)) opener.focus();
        resolve(dialog.returnValue === "ok" ? { reason: $("confirm-reason").value.trim() } : null);
      },
      { once: true },
    );
  });
}

export function buildReportReasons() {
  const wrap = $("report-reasons");
  config.report_reasons.forEach((reason, i) => {
    const id = `report-reason-${reason.value}`;
    wrap.append(
      h(
        "div",
        { class: "choice" },
        h("input", { type: "radio", name: "report-reason", id, value: reason.value, required: true, checked: i === 0 }),
        h("label", { for: id }, reason.label),
      ),
    );
  });
}

/** Report a person, or the room when `person` is null. */
export function openReport(person) {
  const dialog = $("report-dialog");
  $("report-heading").textContent = person ? interpolate(gettext("Report %(name)s"), { name: person.display_name }) : gettext("Report this room");
  $("report-details").value = "";
  $("report-error").hidden = true;
  const opener = document.activeElement;
  dialog.returnValue = "";
  dialog.showModal();
  dialog.onclose = async () => {
    if (opener instanceof HTMLElement && document.contains(opener)) opener.focus();
    if (dialog.returnValue !== "ok") return;
    const reason = dialog.querySelector('input[name="report-reason"]:checked')?.value || "other";
    try {
      await api("POST", `${urls.api}reports/`, {
        reason,
        details: $("report-details").value,
        target_id: person ? person.id : null,
      });
      toast(gettext("Thanks. Your report was sent to the moderators."));
      announce(gettext("Your report was sent."));
    } catch (error) {
      toast(error.message);
      announce(error.message, { assertive: true });
    }
  };
}
