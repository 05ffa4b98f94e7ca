// The room page (<prefix>r/<token>/): pre-join, join through the API, the room socket, the call.
// This file only wires the parts together:
//   context.js        the page's state (`app`), its config and the questions asked of it
//   join.js           the pre-join form, the join API, the socket and getting back in
//   routing.js        each socket message to its handler
//   announcements.js  what changed, said to screen readers
//   call.js           entering the room, media, drawing the grid and panels, finishing
//   controls.js       the call bar, the header buttons and the side panels
//   dialogs.js        confirm and report dialogs
//   lobbyprompt.js    the knock prompt for hosts: Admit / Deny and a chime
//   rsvp.js           "I'll be there" before a scheduled room starts
// Actions on other people go through the REST API (security.js); the visitor's own hand, mute
// and leave go on the socket.

import { announce } from "../lib/dom.js";
import { localizeStarts } from "../lib/time.js";
import { waitContext } from "./call.js";
import { $, app, config, prejoin, urls } from "./context.js";
import {
  copyLink,
  leave,
  setMic,
  toggleCamera,
  toggleHand,
  toggleMic,
  togglePanel,
  toggleScreen,
} from "./controls.js";
import { buildReportReasons, confirmDialog, openReport } from "./dialogs.js";
import { onJoinSubmit } from "./join.js";
import { LobbyPrompt } from "./lobbyprompt.js";
import { setUpRsvp } from "./rsvp.js";
import { showWaitScreen } from "./screens.js";
import { SecurityPanel } from "./security.js";
import { gettext, interpolate } from "../lib/i18n.js";

app.security = new SecurityPanel({ api: urls.api, confirm: confirmDialog, onReport: openReport });
app.lobbyPrompt = new LobbyPrompt($("knock"), {
  onAction: (action, person) => app.security.act(action, person),
  onOpenLobby: () => togglePanel("panel-security", true),
  onFocusAway: () => $("toggle-security").focus(),
});
buildReportReasons();
localizeStarts();
setUpRsvp();
// A guest in a room for signed-in people only gets a sign-in link instead of the form.
$("join-form")?.addEventListener("submit", onJoinSubmit);
$("ctl-mic").addEventListener("click", toggleMic);
$("ctl-cam").addEventListener("click", toggleCamera);
$("ctl-screen").addEventListener("click", toggleScreen);
$("ctl-hand").addEventListener("click", toggleHand);
$("ctl-leave").addEventListener("click", leave);
$("copy-link").addEventListener("click", copyLink);
$("report-room").addEventListener("click", () => openReport(null));
$("toggle-people").addEventListener("click", () => togglePanel("panel-people"));
$("toggle-security").addEventListener("click", () => togglePanel("panel-security"));
for (const button of document.querySelectorAll("[data-close-panel]")) {
  button.addEventListener("click", () => togglePanel(button.dataset.closePanel, false));
}
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || document.querySelector("dialog[open]")) return;
  for (const id of ["panel-people", "panel-security"]) if (!$(id).hidden) togglePanel(id, false);
});
$("unmute-accept").addEventListener("click", () => {
  setMic(true);
  announce(gettext("Microphone on."));
});
$("unmute-dismiss").addEventListener("click", () => {
  $("unmute-request").hidden = true;
});

if (config.room.state === "ended") {
  showWaitScreen("ended", waitContext({ endedBy: config.room.ended_by }));
} else if (config.refused) {
  // Removed from this room earlier: said at once, no pre-join, no camera.
  showWaitScreen(config.refused, waitContext());
} else if ($("join-form")) {
  prejoin.open();
}
document.body.dataset.ready = "true";
