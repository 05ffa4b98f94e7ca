// Message routing: every message the room socket delivers goes to the code that handles it.

import { announce, toast } from "../lib/dom.js";
import { describeEvent } from "./announcements.js";
import { enterRoom, finish, onMediaState, onSlots, render, renderGrid, showMediaStatus, waitContext } from "./call.js";
import { $, app, me } from "./context.js";
import { stopScreen } from "./controls.js";
import { reasonKnown, showWaitScreen } from "./screens.js";
import { applyEvent, fromSnapshot, isModeratorRole } from "./state.js";
import { gettext, interpolate } from "../lib/i18n.js";

export function onMessage(message) {
  switch (message.type) {
    case "hello":
    case "pong":
    case "media.stats":
    case "report.received":
      return;
    case "snapshot":
      onSnapshot(message);
      return;
    case "lobby.status":
      app.phase = "lobby";
      app.wasInLobby = true;
      // A lobby reason this page does not know yet is still a wait, never a refusal.
      showWaitScreen(reasonKnown(message.reason) ? message.reason : "waiting", waitContext());
      return;
    case "removed":
      finish();
      showWaitScreen("removed", waitContext({ detail: message.reason || "", by: message.by }));
      return;
    case "room.ended":
      finish();
      // Both the room's event and the socket's last word carry data.ended_by (the top-level
      // ended_by is its deprecated copy: docs/socket.md).
      showWaitScreen("ended", waitContext({ endedBy: message.data?.ended_by ?? message.ended_by }));
      return;
    case "lobby.denied":
      finish();
      showWaitScreen("denied", waitContext({ by: message.by }));
      return;
    case "left":
      finish();
      showWaitScreen("left", waitContext());
      return;
    case "replaced":
      finish();
      showWaitScreen("replaced", waitContext());
      return;
    case "unmute.requested":
      $("unmute-request").hidden = false;
      announce(gettext("The host asks you to unmute."), { assertive: true });
      return;
    case "room.speakers":
      app.speakers = (message.participant_ids || []).map(Number);
      renderGrid();
      return;
    case "error":
      onServerError(message);
      return;
    case "media.answer":
      app.media?.handleAnswer(message.sdp, message.offer_id);
      return;
    case "media.renegotiate":
      app.media?.renegotiate(message.audio_slots, message.video_slots);
      return;
    case "media.slots":
      // During a move these name the new connection's slots: applied when it takes over.
      if (app.media?.moving) app.pendingSlots = message.slots || {};
      else onSlots(message.slots || {});
      return;
    case "media.state":
      onMediaState(message.state);
      return;
    case "turn.credentials":
      // Fresh TURN credentials before the last ones expire: for the next media connection.
      if (app.you) app.you.ice_servers = message.ice_servers || [];
      app.media?.setIceServers(message.ice_servers || []);
      return;
    default:
      if (typeof message.type === "string" && message.type.startsWith("room.")) onEvent(message);
  }
}

function onServerError(message) {
  const aboutMedia = message.regarding === "media" || message.regarding === "media.offer";
  if (message.code === "screen_share_busy" || message.code === "screen_share_forbidden") {
    // The offer with our share was refused: the retry goes without it.
    app.media?.negotiationFailed(message.offer_id);
    const text =
      message.code === "screen_share_busy"
        ? gettext("Someone else is sharing their screen. You can share once they stop.")
        : gettext("Screen sharing is turned off for participants.");
    stopScreen({ quiet: true, offer: false });
    toast(text);
    announce(text, { assertive: true });
    return;
  }
  if (aboutMedia || message.code === "media_unavailable") {
    app.media?.negotiationFailed(message.offer_id);
    showMediaStatus(message.message);
    return;
  }
  if (message.code === "slow_down") return;
  if (message.code === "unavailable") {
    // The server could not act (its database or Redis was down): what this page shows may be
    // stale, so ask for a fresh snapshot once it should be back.
    setTimeout(() => app.socket?.send({ type: "snapshot.request" }), (message.retry_after || 5) * 1000);
  }
  toast(message.message);
  announce(message.message, { assertive: true });
}

function onSnapshot(message) {
  const previousRole = me()?.role;
  app.snapshot = fromSnapshot(message);
  app.you = message.you;
  app.media?.setIceServers(app.you?.ice_servers || []);
  if (app.phase !== "room") {
    enterRoom();
    return;
  }
  const role = me()?.role;
  if (previousRole && role !== previousRole) {
    announce(isModeratorRole(role) ? gettext("You are now a co-host.") : gettext("You are no longer a co-host."));
  }
  render();
}

function onEvent(event) {
  if (!app.snapshot) return;
  const before = app.snapshot;
  const after = applyEvent(before, event);
  if (after === null) {
    // A missed version: the channel layer is at-most-once. Start again from a snapshot.
    app.socket.send({ type: "snapshot.request" });
    return;
  }
  if (after === before) return;
  app.snapshot = after;
  describeEvent(event, before);
  render();
}
