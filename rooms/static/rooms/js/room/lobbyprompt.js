// The lobby prompt: when someone knocks, hosts and co-hosts see who is waiting above the call,
// with Admit and Deny, and hear a short chime they can turn off (remembered in this browser).
// The Security panel keeps the full lobby list; the prompt steps aside while it is open.

import { avatar, h } from "../lib/dom.js";
import { formatNumber, gettext, interpolate, ngettext } from "../lib/i18n.js";

const SHOWN = 3; // people listed in the prompt; the rest are in the Security panel
const SOUND_KEY = "rooms.knockSound";

function soundWanted() {
  try {
    return localStorage.getItem(SOUND_KEY) !== "off";
  } catch {
    return true; // storage blocked: the default
  }
}

function rememberSound(on) {
  try {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch {
    /* storage blocked: the choice lasts for this page only */
  }
}

export class LobbyPrompt {
  /**
   * @param {HTMLElement} element the prompt's container (room.html, #knock)
   * @param {{onAction: Function, onOpenLobby: Function, onFocusAway: Function}} callbacks
   *   onAction("admit"|"deny", person); onFocusAway() when the prompt closes under the keyboard focus
   */
  constructor(element, { onAction, onOpenLobby, onFocusAway }) {
    this.el = element;
    this.onAction = onAction;
    this.onOpenLobby = onOpenLobby;
    this.onFocusAway = onFocusAway;
    this.sound = soundWanted();
    this.heard = new Set(); // everyone who has knocked while this page watched
    this.dismissed = new Set(); // "Later": hidden until someone new knocks
    this.audio = null;
    this.chimes = 0;
  }

  /** @param {{lobby: object[], moderator: boolean, panelOpen: boolean}} view */
  render({ lobby, moderator, panelOpen }) {
    const waiting = moderator ? lobby || [] : [];
    const ids = new Set(waiting.map((p) => p.id));
    const newcomers = waiting.filter((p) => !this.heard.has(p.id));
    for (const p of newcomers) this.heard.add(p.id);
    for (const id of this.heard) if (!ids.has(id)) this.heard.delete(id);
    if (newcomers.length) {
      this.dismissed.clear();
      if (this.sound) this.chime();
    }
    const shown = waiting.filter((p) => !this.dismissed.has(p.id));
    const visible = shown.length > 0 && !panelOpen;
    const focusKey = this.el.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
    this.el.hidden = !visible;
    if (!visible) {
      // Keyboard focus was on the last Admit/Deny: keep it near, on the Security button.
      if (focusKey) this.onFocusAway?.();
      return;
    }
    const title =
      shown.length === 1
        ? interpolate(gettext("%(name)s wants to join"), { name: shown[0].display_name })
        : interpolate(ngettext("%(count)s person wants to join", "%(count)s people want to join", shown.length), {
            count: formatNumber(shown.length),
          });
    const rows = shown.slice(0, SHOWN).map((person) => this._row(person));
    const more = shown.length - SHOWN;
    this.el.replaceChildren(
      h("h2", { class: "knock__title", id: "knock-heading" }, title),
      h("ul", { class: "knock__list", "aria-labelledby": "knock-heading" }, rows),
      h(
        "div",
        { class: "knock__foot" },
        h(
          "label",
          { class: "switch knock__sound" },
          h("input", {
            type: "checkbox",
            checked: this.sound,
            dataset: { focusKey: "sound" },
            onchange: (event) => this.setSound(event.target.checked),
          }),
          h("span", {}, gettext("Knock sound")),
        ),
        more > 0
          ? h(
              "button",
              { type: "button", class: "button button--quiet button--small", dataset: { focusKey: "open" }, onclick: () => this.onOpenLobby() },
              interpolate(ngettext("%(count)s more in the lobby", "%(count)s more in the lobby", more), { count: formatNumber(more) }),
            )
          : null,
        h(
          "button",
          {
            type: "button",
            class: "button button--quiet button--small",
            dataset: { focusKey: "later" },
            onclick: () => {
              for (const p of waiting) this.dismissed.add(p.id);
              this.el.hidden = true;
              this.onFocusAway?.();
            },
          },
          gettext("Later"),
        ),
      ),
    );
    if (focusKey) (this.el.querySelector(`[data-focus-key="${focusKey}"]`) || this.el.querySelector("button"))?.focus();
  }

  setSound(on) {
    this.sound = on;
    rememberSound(on);
  }

  /** A short two-note chime (Web Audio: no file to fetch). */
  chime() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      this.audio ||= new Context();
      const ctx = this.audio;
      if (ctx.state === "suspended") ctx.resume().catch(() => {});
      const gain = ctx.createGain();
      gain.connect(ctx.destination);
      const start = ctx.currentTime + 0.01;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.45);
      [660, 880].forEach((frequency, i) => {
        const tone = ctx.createOscillator();
        tone.type = "sine";
        tone.frequency.value = frequency;
        tone.connect(gain);
        tone.start(start + i * 0.15);
        tone.stop(start + 0.45);
      });
      this.chimes += 1;
    } catch {
      /* no audio output: the prompt and the announcement still say it */
    }
  }

  _row(person) {
    const button = (action, [text, label], cls) =>
      h(
        "button",
        {
          type: "button",
          class: `button ${cls} button--small`,
          dataset: { focusKey: `${action}-${person.id}` },
          "aria-label": interpolate(label, { name: person.display_name }),
          onclick: () => this.onAction(action, person),
        },
        text,
      );
    return h(
      "li",
      { class: "knock__person", dataset: { pid: person.id } },
      avatar(person.display_name),
      h("span", { class: "knock__name" }, person.display_name, person.is_guest ? h("span", { class: "knock__guest" }, ` · ${gettext("Guest")}`) : null),
      button("admit", [gettext("Admit"), gettext("Admit %(name)s")], ""),
      button("deny", [gettext("Deny"), gettext("Deny %(name)s")], "button--quiet"),
    );
  }
}
