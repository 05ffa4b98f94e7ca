// The pre-join screen: camera preview, device choice, microphone and camera toggles.
// The stream it builds is the one the room publishes, so joining needs no second prompt.

import { announce } from "../lib/dom.js";
import { setIcon } from "./icons.js";
import { formatNumber, gettext, interpolate } from "../lib/i18n.js";

const $ = (id) => document.getElementById(id);

export function paintToggle(button, { on, kind }) {
  const mic = kind === "mic";
  button.setAttribute("aria-pressed", String(on));
  button.setAttribute("aria-label", mic ? (on ? gettext("Microphone on") : gettext("Microphone off")) : on ? gettext("Camera on") : gettext("Camera off"));
  button.title = mic ? (on ? gettext("Turn microphone off") : gettext("Turn microphone on")) : on ? gettext("Turn camera off") : gettext("Turn camera on");
  button.classList.toggle("is-off", !on);
  setIcon(button, kind === "mic" ? (on ? "mic" : "micOff") : on ? "cam" : "camOff");
}

export class PreJoin {
  constructor() {
    this.stream = null;
    this.opening = null;
    this.micOn = true;
    this.camOn = true;
    this.cameraId = "";
    this.micId = "";
    paintToggle($("pre-mic"), { on: true, kind: "mic" });
    paintToggle($("pre-cam"), { on: true, kind: "cam" });
    $("pre-mic").addEventListener("click", () => this.setMic(!this.micOn));
    $("pre-cam").addEventListener("click", () => this.setCamera(!this.camOn));
    $("camera-select").addEventListener("change", (e) => {
      this.cameraId = e.target.value;
      this.open();
    });
    $("mic-select").addEventListener("change", (e) => {
      this.micId = e.target.value;
      this.open();
    });
  }

  /** Open (or reopen, another device chosen) the camera and microphone. */
  open() {
    const opening = this._open();
    this.opening = opening;
    return opening;
  }

  /**
   * Resolves once the devices being opened are open (or could not be), waiting at most
   * `timeoutMs`: Join can be pressed before the preview is up (getUserMedia takes seconds on
   * a slow machine, or waits on a permission prompt), and a call started before that would
   * publish no camera or microphone at all.
   */
  settled(timeoutMs) {
    let timer = 0;
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    return Promise.race([Promise.resolve(this.opening).catch(() => {}), late]).finally(() => clearTimeout(timer));
  }

  async _open() {
    if (!navigator.mediaDevices?.getUserMedia) {
      this._error(gettext("This browser can't use a camera or microphone here. You can still join and listen."));
      return;
    }
    const old = this.stream;
    const constraints = {
      audio: this.micId ? { deviceId: { exact: this.micId } } : true,
      video: this.cameraId
        ? { deviceId: { exact: this.cameraId }, width: { ideal: 640 }, height: { ideal: 480 } }
        : { width: { ideal: 640 }, height: { ideal: 480 } },
    };
    if (old) for (const t of old.getTracks()) t.stop();
    try {
      this.stream = await navigator.mediaDevices.getUserMedia(constraints);
    } catch (error) {
      // Try audio alone before giving up: no camera should not mean no voice.
      try {
        this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        this._error(gettext("We couldn't use your camera. You can join with your microphone only."));
      } catch {
        this.stream = null;
        this._error(interpolate(gettext("We couldn't use your camera or microphone (%(problem)s). You can still join and listen."), { problem: error.name }));
      }
    }
    this._apply();
    $("preview-video").srcObject = this.stream;
    await this._listDevices();
  }

  _error(text) {
    const el = $("preview-error");
    el.textContent = text;
    el.hidden = false;
  }

  _apply() {
    for (const t of this.stream?.getAudioTracks() || []) t.enabled = this.micOn;
    for (const t of this.stream?.getVideoTracks() || []) t.enabled = this.camOn;
    const hasVideo = Boolean(this.stream?.getVideoTracks().length);
    $("preview-off").hidden = this.camOn && hasVideo;
    $("preview-off-text").textContent = hasVideo ? gettext("Your camera is off") : gettext("No camera");
    paintToggle($("pre-mic"), { on: this.micOn, kind: "mic" });
    paintToggle($("pre-cam"), { on: this.camOn && hasVideo, kind: "cam" });
    $("pre-cam").disabled = !hasVideo;
    $("pre-mic").disabled = !this.stream?.getAudioTracks().length;
  }

  setMic(on) {
    this.micOn = on;
    this._apply();
    announce(on ? gettext("Microphone on.") : gettext("Microphone off."));
  }

  setCamera(on) {
    this.camOn = on;
    this._apply();
    announce(on ? gettext("Camera on.") : gettext("Camera off."));
  }

  async _listDevices() {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select, kind, current, fallback) => {
      const list = devices.filter((d) => d.kind === kind && d.deviceId);
      select.replaceChildren(
        ...list.map((d, i) => {
          const option = document.createElement("option");
          option.value = d.deviceId;
          option.textContent = d.label || interpolate(fallback, { number: formatNumber(i + 1) });
          if (d.label) option.translate = false; // the device's own name
          return option;
        }),
      );
      const active = current || list[0]?.deviceId || "";
      if (active) select.value = active;
      select.disabled = list.length < 2;
    };
    const videoId = this.stream?.getVideoTracks()[0]?.getSettings().deviceId || this.cameraId;
    const audioId = this.stream?.getAudioTracks()[0]?.getSettings().deviceId || this.micId;
    fill($("camera-select"), "videoinput", videoId, gettext("Camera %(number)s"));
    fill($("mic-select"), "audioinput", audioId, gettext("Microphone %(number)s"));
  }
}
