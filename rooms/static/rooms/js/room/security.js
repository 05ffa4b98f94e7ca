// The host's Security panel (hosts and co-hosts): every action is a REST call; the room
// socket's events then update everyone's view, this one included.

import { api } from "../lib/api.js";
import { announce, toast } from "../lib/dom.js";
import { lobbyRow, personRow, replaceList } from "./ui.js";
import { formatNumber, gettext, interpolate, ngettext } from "../lib/i18n.js";

const $ = (id) => document.getElementById(id);

export class SecurityPanel {
  /**
   * @param {{api: string, confirm: Function, onReport: Function}} options: `api` is the room's
   *   API resource (the page's config.urls.api), ending in "/"
   */
  constructor({ api, confirm, onReport }) {
    this.base = api;
    this.confirm = confirm;
    this.onReport = onReport;
    this.busy = false;
    this._bind();
  }

  async _call(method, path, body, done) {
    try {
      const result = await api(method, this.base + path, body);
      if (done) {
        announce(done);
        toast(done);
      }
      return result;
    } catch (error) {
      toast(error.message);
      announce(error.message, { assertive: true });
      return null;
    }
  }

  _bind() {
    $("sec-lock").addEventListener("change", async (event) => {
      const locked = event.target.checked;
      const ok = await this._call("POST", locked ? "lock/" : "unlock/", undefined, locked ? gettext("Room locked.") : gettext("Room unlocked."));
      if (!ok) event.target.checked = !locked;
    });
    $("sec-waiting").addEventListener("change", async (event) => {
      const on = event.target.checked;
      const ok = await this._call("PATCH", "", { waiting_room: on }, on ? gettext("Waiting room on.") : gettext("Waiting room off."));
      if (!ok) event.target.checked = !on;
    });
    $("sec-signed-in-only").addEventListener("change", async (event) => {
      const on = event.target.checked;
      const ok = await this._call(
        "PATCH",
        "",
        { signed_in_only: on },
        on ? gettext("Only people signed in to the site can join now.") : gettext("Guests can join again."),
      );
      if (!ok) event.target.checked = !on;
    });
    $("sec-screen").addEventListener("change", async (event) => {
      const on = event.target.checked;
      const ok = await this._call(
        "PATCH",
        "",
        { participants_can_share_screen: on },
        on ? gettext("Participants can share their screen.") : gettext("Only hosts can share their screen."),
      );
      if (!ok) event.target.checked = !on;
    });
    $("sec-several-screens").addEventListener("change", async (event) => {
      const on = event.target.checked;
      const ok = await this._call(
        "PATCH",
        "",
        { several_screen_shares: on },
        on ? gettext("Several people can share their screen at once.") : gettext("One screen share at a time."),
      );
      if (!ok) event.target.checked = !on;
    });
    $("sec-capacity-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const capacity = Number($("sec-capacity").value);
      const inside = Number($("sec-capacity").min) || 1;
      if (!Number.isInteger(capacity) || capacity < 1 || capacity > 50) {
        toast(gettext("Capacity must be a whole number from 1 to 50."));
        return;
      }
      if (capacity < inside) {
        const text = interpolate(
          ngettext(
            "%(count)s person is in the room now: capacity can't be lower than that.",
            "%(count)s people are in the room now: capacity can't be lower than that.",
            inside,
          ),
          { count: formatNumber(inside) },
        );
        toast(text);
        announce(text, { assertive: true });
        return;
      }
      await this._call("PATCH", "", { capacity }, interpolate(gettext("Capacity set to %(capacity)s."), { capacity: formatNumber(capacity) }));
    });
    $("sec-admit-all").addEventListener("click", () => this._call("POST", "lobby/admit/", { all: true }, gettext("Everyone in the lobby was let in.")));
    $("sec-deny-all").addEventListener("click", () => this._call("POST", "lobby/deny/", { all: true }, gettext("Everyone in the lobby was turned away.")));
    $("sec-mute-all").addEventListener("click", () => this._call("POST", "mute-all/", undefined, gettext("Everyone else is muted.")));
    $("sec-end").addEventListener("click", async () => {
      const ok = await this.confirm({
        title: gettext("End the room for everyone?"),
        message: gettext("Everyone will be disconnected and the room can't be opened again."),
        confirm: gettext("End room"),
      });
      if (ok) await this._call("POST", "end/", undefined, "");
    });
  }

  /** Person-level actions (from this panel or the people list). */
  async act(action, person) {
    const name = person.display_name;
    if (action === "admit") return this._call("POST", "lobby/admit/", { participant_ids: [person.id] }, interpolate(gettext("%(name)s was let in."), { name }));
    if (action === "deny") return this._call("POST", "lobby/deny/", { participant_ids: [person.id] }, interpolate(gettext("%(name)s was turned away."), { name }));
    if (action === "mute") return this._call("POST", `participants/${person.id}/mute/`, undefined, interpolate(gettext("%(name)s is muted."), { name }));
    if (action === "ask-unmute") return this._call("POST", `participants/${person.id}/ask-unmute/`, undefined, interpolate(gettext("%(name)s was asked to unmute."), { name }));
    if (action === "report") return this.onReport(person);
    if (action === "make-cohost") return this._call("POST", "cohosts/", { user_id: person.user_id }, interpolate(gettext("%(name)s is now a co-host."), { name }));
    if (action === "drop-cohost") return this._call("DELETE", `cohosts/${person.user_id}/`, undefined, interpolate(gettext("%(name)s is no longer a co-host."), { name }));
    if (action === "remove") {
      const answer = await this.confirm({
        title: interpolate(gettext("Remove %(name)s?"), { name }),
        message: interpolate(gettext("%(name)s will leave the room now and won't be able to come back."), { name }),
        confirm: gettext("Remove"),
        withReason: true,
      });
      if (answer) return this._call("POST", `participants/${person.id}/remove/`, { reason: answer.reason || "" }, interpolate(gettext("%(name)s was removed."), { name }));
    }
    return null;
  }

  render({ room, roster, lobby, meId, amHost }) {
    const focused = document.activeElement;
    $("sec-lock").checked = room.locked;
    $("sec-waiting").checked = room.waiting_room;
    $("sec-signed-in-only").checked = room.signed_in_only;
    $("sec-screen").checked = room.participants_can_share_screen;
    $("sec-several-screens").checked = Boolean(room.several_screen_shares);
    if (focused !== $("sec-capacity")) $("sec-capacity").value = String(room.capacity);
    $("sec-capacity").min = String(Math.max(1, roster.length)); // not below the people inside
    const waiting = lobby || [];
    $("sec-lobby-count").textContent = String(waiting.length);
    $("sec-lobby-empty").hidden = waiting.length > 0;
    $("sec-lobby-bulk").hidden = waiting.length < 2;
    replaceList($("sec-lobby"), waiting.map((p) => lobbyRow(p, (a, person) => this.act(a, person))));
    replaceList(
      $("sec-people"),
      roster.map((p) =>
        personRow(p, { meId, canModerate: true, withReport: false, amHost, onAction: (a, person) => this.act(a, person) }),
      ),
    );
  }
}
