// The call bar and the header's buttons: microphone, camera, screen, hand, leave, link, panels.

import { api } from "../lib/api.js";
import { announce, toast } from "../lib/dom.js";
import { finish, paintControls, renderGrid, renderLobbyPrompt, waitContext } from "./call.js";
import { $, app, canShareScreen, config, me, prejoin, urls } from "./context.js";
import { showWaitScreen } from "./screens.js";
import { gettext, interpolate } from "../lib/i18n.js";

export function setMic(on, { tellServer = true } = {}) {
  app.micOn = on;
  for (const t of prejoin.stream?.getAudioTracks() || []) t.enabled = on;
  if (tellServer) app.socket?.send({ type: "audio.set", muted: !on });
  if (on) $("unmute-request").hidden = true;
  paintControls(me());
}

export function toggleMic() {
  setMic(!app.micOn);
  announce(app.micOn ? gettext("Microphone on.") : gettext("You're muted."));
}

export function toggleCamera() {
  app.camOn = !app.camOn;
  app.media?.setCameraEnabled(app.camOn);
  app.socket?.send({ type: "camera.set", off: !app.camOn });
  for (const t of prejoin.stream?.getVideoTracks() || []) t.enabled = app.camOn;
  announce(app.camOn ? gettext("Camera on.") : gettext("Camera off."));
  paintControls(me());
  renderGrid();
}

export async function toggleScreen() {
  if (app.sharing) {
    await stopScreen();
    return;
  }
  if (!canShareScreen()) {
    toast(gettext("The host has turned off screen sharing for participants."));
    announce(gettext("The host has turned off screen sharing for participants."));
    return;
  }
  if (!navigator.mediaDevices?.getDisplayMedia) {
    toast(gettext("This browser can't share its screen."));
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch {
    return; // the visitor cancelled the picker
  }
  const track = stream.getVideoTracks()[0];
  track.addEventListener("ended", () => stopScreen());
  app.sharing = true;
  await app.media?.startScreen(track);
  announce(gettext("You're sharing your screen."));
  paintControls(me());
  renderGrid();
}

/** `quiet`: the caller says why instead; `offer` false: a retry already carries the stop. */
export async function stopScreen({ quiet = false, offer = true } = {}) {
  if (!app.sharing) return;
  app.sharing = false;
  await app.media?.stopScreen({ offer });
  if (!quiet) announce(gettext("You stopped sharing your screen."));
  paintControls(me());
  renderGrid();
}

export function toggleHand() {
  const raised = !me()?.hand_raised;
  app.socket?.send({ type: "hand.set", raised });
  announce(raised ? gettext("You raised your hand.") : gettext("You lowered your hand."));
}

export async function leave() {
  const sent = app.socket?.send({ type: "leave" });
  if (!sent) {
    try {
      await api("POST", `${urls.api}leave/`);
    } catch {
      /* leaving anyway: the seat is released when the socket's grace period ends */
    }
  }
  finish();
  showWaitScreen("left", waitContext());
}

export function copyLink() {
  const url = new URL(config.room.link, location.origin).href;
  const done = () => {
    toast(gettext("Link copied."));
    announce(gettext("Link copied to the clipboard."));
  };
  if (navigator.clipboard?.writeText) {
    navigator.clipboard.writeText(url).then(done, () => window.prompt(gettext("Copy this link:"), url));
  } else {
    window.prompt(gettext("Copy this link:"), url);
  }
}

export function togglePanel(id, open) {
  const panel = $(id);
  const button = $(id === "panel-people" ? "toggle-people" : "toggle-security");
  const show = open ?? panel.hidden;
  for (const other of ["panel-people", "panel-security"]) {
    if (other !== id && show) {
      $(other).hidden = true;
      $(other === "panel-people" ? "toggle-people" : "toggle-security").setAttribute("aria-expanded", "false");
    }
  }
  panel.hidden = !show;
  button.setAttribute("aria-expanded", String(show));
  $("screen-room").classList.toggle("has-panel", show);
  if (show) panel.querySelector("h2")?.focus();
  else button.focus();
  renderLobbyPrompt();
}
