// The room page (<prefix>r/<token>/): pre-join, join through the API, the room socket, the call.
//
// State comes from the server only: a snapshot, then versioned events applied with
// state.applyEvent (the mirror of rooms/events.apply_event). Actions on other people go
// through the REST API (security.js); the visitor's own hand, mute and leave go on the socket.

import { api, ApiError, fieldError, setCsrfToken } from "../lib/api.js";
import { announce, h, toast } from "../lib/dom.js";
import { setIcon } from "./icons.js";
import { MediaSession } from "./media.js";
import { PreJoin, paintToggle } from "./prejoin.js";
import { reasonKnown, showWaitScreen } from "./screens.js";
import { SecurityPanel } from "./security.js";
import { CLOSE, RoomSocket } from "./socket.js";
import { applyEvent, fromSnapshot, isModeratorRole } from "./state.js";
import { Grid, personRow, replaceList } from "./ui.js";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("room-config").textContent);
const token = config.room.token;
// Every URL comes from the page (rooms/views.py): the site may mount Rooms under any prefix.
const urls = config.urls;
setCsrfToken(config.csrf_token);
const MAX_AUDIO_SLOTS = 3;
const MAX_VIDEO_SLOTS = 9;
const QUALITY_MS = 2000;

const app = {
  phase: "prejoin", // prejoin | joining | lobby | room | done
  snapshot: null,
  you: null, // the snapshot's "you" (role, can_share_screen, ice_servers)
  speakers: [],
  slotOwners: new Map(), // mid -> {pid, kind}
  remoteTracks: new Map(), // mid -> MediaStreamTrack
  micOn: true,
  camOn: true,
  sharing: false,
  socket: null,
  media: null,
  joinBody: null,
  wasInLobby: false,
  qualityTimer: 0,
  metrics: { joinClickedAt: null, firstRemoteFrameAt: null },
};
// For the browser tests and for debugging from the console.
window.roomsDebug = app;

const prejoin = new PreJoin();
const grid = new Grid($("grid"), {
  onFirstFrame: () => {
    if (app.metrics.firstRemoteFrameAt === null) app.metrics.firstRemoteFrameAt = performance.now();
  },
});

// --- small helpers -----------------------------------------------------------------------------

function me() {
  if (!app.snapshot || !app.you) return null;
  return app.snapshot.roster.find((p) => p.id === app.you.id) || null;
}

function amModerator() {
  const person = me();
  return Boolean(person && isModeratorRole(person.role));
}

function canShareScreen() {
  return amModerator() || Boolean(app.snapshot?.room.participants_can_share_screen);
}

function waitContext(extra = {}) {
  return {
    hostName: config.room.host_name,
    signedIn: config.viewer.signed_in,
    signInUrl: config.sign_in_url,
    homeUrl: urls.home,
    on: { leave: leave, retry: () => location.reload(), rejoin: () => location.reload() },
    ...extra,
  };
}

function confirmDialog({ title, message, confirm, withReason = false }) {
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

// --- reports -------------------------------------------------------------------------------------

function buildReportReasons() {
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

function openReport(person) {
  const dialog = $("report-dialog");
  $("report-heading").textContent = person ? `Report ${person.display_name}` : "Report this room";
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
      toast("Thanks. Your report was sent to the moderators.");
      announce("Your report was sent.");
    } catch (error) {
      toast(error.message);
      announce(error.message, { assertive: true });
    }
  };
}

// --- joining -------------------------------------------------------------------------------------

function showJoinError(text) {
  const el = $("join-error");
  el.textContent = text;
  el.hidden = !text;
}

function showFieldError(input, text) {
  if (!input) return false;
  const error = $(`${input.id}-error`);
  input.setAttribute("aria-invalid", text ? "true" : "false");
  if (error) {
    error.textContent = text;
    error.hidden = !text;
  }
  if (text) input.focus();
  return Boolean(text);
}

const FINAL_JOIN_ERRORS = new Set([
  "locked",
  "host_away",
  "full",
  "banned",
  "ended",
  "room_ended",
  "suspended",
  "sign_in_required",
  "room_not_found",
  "too_many_attempts",
]);

async function requestJoin() {
  return api("POST", `${urls.api}join/`, app.joinBody);
}

async function onJoinSubmit(event) {
  event.preventDefault();
  if (app.phase !== "prejoin") return;
  const nameInput = $("display-name");
  const passwordInput = $("room-password");
  showJoinError("");
  showFieldError(nameInput, "");
  showFieldError(passwordInput, "");
  const displayName = nameInput ? nameInput.value.trim() : "";
  if (nameInput && !displayName) {
    showFieldError(nameInput, "Enter the name others will see.");
    return;
  }
  if (passwordInput && !passwordInput.value) {
    showFieldError(passwordInput, "This room needs a password.");
    return;
  }
  app.joinBody = { display_name: displayName, password: passwordInput ? passwordInput.value : null };
  app.metrics.joinClickedAt = performance.now();
  const button = $("join-button");
  button.disabled = true;
  button.textContent = "Joining…";
  app.phase = "joining";
  try {
    const result = await requestJoin();
    app.micOn = prejoin.micOn;
    app.camOn = prejoin.camOn;
    openSocket(result.ticket);
  } catch (error) {
    app.phase = "prejoin";
    button.disabled = false;
    button.textContent = "Join room";
    handleJoinError(error, { nameInput, passwordInput });
  }
}

function handleJoinError(error, { nameInput, passwordInput } = {}) {
  if (!(error instanceof ApiError)) throw error;
  const code = error.code === "room_ended" ? "ended" : error.code;
  // "Too many wrong passwords" says when to try again: the form stays, the password kept.
  if (code === "password_required" || code === "wrong_password" || (code === "too_many_attempts" && passwordInput)) {
    if (!showFieldError(passwordInput, error.message)) showJoinError(`${error.message} Reload the page to enter it.`);
    return;
  }
  if (error.status === 400) {
    const nameError = fieldError(error, "display_name");
    if (nameError && showFieldError(nameInput, nameError)) return;
    const passwordError = fieldError(error, "password");
    if (passwordError && showFieldError(passwordInput, passwordError)) return;
  }
  if (FINAL_JOIN_ERRORS.has(code)) {
    finish();
    showWaitScreen(code, waitContext({ message: error.message }));
    return;
  }
  showJoinError(error.message);
}

// --- the socket ----------------------------------------------------------------------------------

function openSocket(ticket) {
  app.socket = new RoomSocket(urls.socket, {
    onMessage,
    onOpen: ({ resumed }) => {
      $("reconnecting").hidden = true;
      if (resumed) {
        announce("Reconnected.");
        const state = app.media?.pc?.connectionState;
        if (app.media && (state === "failed" || state === "closed")) app.media.restart();
      }
    },
    onDrop: () => {
      if (app.phase !== "room" && app.phase !== "lobby") return;
      $("reconnecting").hidden = false;
      announce("Connection lost. Reconnecting…", { assertive: true });
    },
    onResumeFailed: rejoin,
    onFinal: (code) => {
      if (app.phase === "done") return;
      // A closing code without its message (should not happen): still say something true.
      const reason = { [CLOSE.REMOVED]: "removed", [CLOSE.ENDED]: "ended", [CLOSE.REPLACED]: "replaced" }[code] || "left";
      finish();
      showWaitScreen(reason, waitContext());
    },
  });
  app.socket.open(ticket);
}

// A resume was refused (seat released, token expired): ask the join API again, which gives
// the seat back while it is held, or says why not.
async function rejoin() {
  if (app.phase === "done") return;
  try {
    const result = await requestJoin();
    app.socket.reopen(result.ticket);
  } catch (error) {
    // Offline, or the server is briefly unavailable (503): try again a little later.
    if (error instanceof ApiError && (error.status === 0 || error.status === 503)) {
      app.socket.retry();
      return;
    }
    finish();
    const code = error instanceof ApiError ? (error.code === "room_ended" ? "ended" : error.code) : "connection_lost";
    showWaitScreen(FINAL_JOIN_ERRORS.has(code) ? code : "connection_lost", waitContext({ message: error.message }));
  }
}

function onMessage(message) {
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
      showWaitScreen("removed", waitContext({ detail: message.reason || "" }));
      return;
    case "room.ended":
      finish();
      // The socket's last word says ended_by; the room event has it in its data.
      showWaitScreen("ended", waitContext({ endedBy: message.ended_by || message.data?.ended_by }));
      return;
    case "lobby.denied":
      finish();
      showWaitScreen("denied", waitContext());
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
      announce("The host asks you to unmute.", { assertive: true });
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
    announce(isModeratorRole(role) ? "You are now a co-host." : "You are no longer a co-host.");
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

// What changed, for screen readers (and the visitor's own mute state).
function describeEvent(event, before) {
  const person = event.participant;
  const mine = person && app.you && person.id === app.you.id;
  switch (event.type) {
    case "room.participant_joined":
      if (!mine) announce(`${person.display_name} joined.`);
      break;
    case "room.participant_left":
      if (!mine) announce(`${person.display_name} left.`);
      break;
    case "room.participant_removed":
      if (!mine) announce(`${person.display_name} was removed.`);
      break;
    case "room.lobby_waiting":
      announce(`${person.display_name} is waiting in the lobby.`);
      break;
    case "room.cohost_added":
      if (person) announce(mine ? "You are now a co-host." : `${person.display_name} is now a co-host.`);
      break;
    case "room.cohost_removed":
      if (person && mine) announce("You are no longer a co-host.");
      break;
    case "room.locked":
      announce("The room is locked.");
      break;
    case "room.unlocked":
      announce("The room is unlocked.");
      break;
    case "room.participant_updated": {
      const old = before.roster.find((p) => p.id === person.id);
      if (mine && person.audio_muted && app.micOn) {
        setMic(false, { tellServer: false });
        announce("The host muted you.", { assertive: true });
        toast("The host muted you.");
      } else if (!mine && old && !old.audio_muted && person.audio_muted) {
        announce(`${person.display_name} is muted.`);
      }
      if (!mine && old && !old.hand_raised && person.hand_raised) announce(`${person.display_name} raised their hand.`);
      break;
    }
    default:
      break;
  }
  if (event.room && before.room.participants_can_share_screen && !event.room.participants_can_share_screen) {
    if (!amModerator()) {
      announce("The host turned off screen sharing.");
      if (app.sharing) stopScreen();
    }
  }
}

// --- in the room ---------------------------------------------------------------------------------

function enterRoom() {
  app.phase = "room";
  $("screen-prejoin").hidden = true;
  $("screen-wait").hidden = true;
  $("screen-room").hidden = false;
  $("call-heading").focus?.();
  announce(app.wasInLobby ? "You were let in. You're in the room." : "You're in the room.");
  const person = me();
  if (person?.audio_muted) app.micOn = false;
  if (!app.micOn && person && !person.audio_muted) app.socket.send({ type: "audio.set", muted: true });
  startMedia();
  render();
  clearInterval(app.qualityTimer);
  app.qualityTimer = setInterval(updateQuality, QUALITY_MS);
}

function startMedia() {
  if (app.media) return;
  const stream = prejoin.stream;
  for (const t of stream?.getAudioTracks() || []) t.enabled = app.micOn;
  for (const t of stream?.getVideoTracks() || []) t.enabled = app.camOn;
  app.media = new MediaSession({
    send: (msg) => app.socket.send(msg),
    iceServers: app.you?.ice_servers || [],
    tiles: $("grid"),
    onRemoteTrack: (mid, track) => {
      app.remoteTracks.set(mid, track);
      if (track.kind === "audio") attachAudio(mid, track);
      track.addEventListener("unmute", renderGrid);
      track.addEventListener("mute", renderGrid);
      renderGrid();
    },
    onState: (state) => {
      if (state === "connected") showMediaStatus("");
      if (state === "failed") app.media.restart();
    },
    onReset: ({ moved = false } = {}) => {
      app.remoteTracks.clear();
      app.slotOwners.clear();
      $("audio-sink").replaceChildren();
      if (moved && app.pendingSlots) onSlots(app.pendingSlots);
      app.pendingSlots = null;
    },
  });
  const others = Math.max(0, (app.snapshot?.roster.length || 1) - 1);
  app.media.start(stream, {
    audioSlots: Math.min(others, MAX_AUDIO_SLOTS),
    videoSlots: Math.min(others, MAX_VIDEO_SLOTS),
  });
}

function attachAudio(mid, track) {
  const sink = $("audio-sink");
  let el = sink.querySelector(`audio[data-mid="${CSS.escape(mid)}"]`);
  if (!el) {
    el = h("audio", { autoplay: true, dataset: { mid } });
    sink.append(el);
  }
  el.srcObject = new MediaStream([track]);
  el.play?.().catch(() => {});
}

function onSlots(slots) {
  app.slotOwners.clear();
  for (const [mid, owner] of Object.entries(slots)) {
    if (owner === null || owner === undefined) continue;
    // A participant id, or {participant_id, kind} when the SFU names screen shares apart.
    const pid = Number(typeof owner === "object" ? owner.participant_id : owner);
    const kind = typeof owner === "object" && owner.kind === "screen" ? "screen" : "camera";
    if (Number.isFinite(pid)) app.slotOwners.set(mid, { pid, kind });
  }
  renderGrid();
}

function onMediaState(state) {
  if (state === "moving") {
    // The room moved to another media server: no visible change, the old one plays until
    // the new one is connected.
    app.media?.move();
  } else if (state === "failed") {
    showMediaStatus("Reconnecting audio and video…");
    app.media?.restart();
  } else if (state === "connected") {
    showMediaStatus("");
  }
}

function showMediaStatus(text) {
  const el = $("media-status");
  el.textContent = text;
  el.hidden = !text;
}

async function updateQuality() {
  if (!app.media) return;
  let q;
  try {
    q = await app.media.quality();
  } catch {
    return;
  }
  const el = $("quality");
  const words = { good: "good", fair: "fair", poor: "poor", unknown: "measuring" };
  let text = `Connection quality: ${words[q.level]}`;
  if (q.level !== "unknown") {
    const parts = [];
    if (q.rtt !== null && q.rtt !== undefined) parts.push(`round trip ${Math.round(q.rtt * 1000)} ms`);
    parts.push(`packet loss ${(q.loss * 100).toFixed(1)}%`);
    text += ` (${parts.join(", ")})`;
  }
  el.dataset.level = q.level;
  el.setAttribute("aria-label", text);
  el.title = text;
}

// --- rendering -----------------------------------------------------------------------------------

function render() {
  if (!app.snapshot) return;
  const person = me();
  const room = app.snapshot.room;
  $("lock-tag").hidden = !room.locked;
  $("people-count").textContent = String(app.snapshot.roster.length);
  const moderator = amModerator();
  $("toggle-security").hidden = !moderator;
  if (!moderator && !$("panel-security").hidden) togglePanel("panel-security", false);
  const waiting = app.snapshot.lobby?.length || 0;
  $("lobby-count").textContent = String(waiting);
  $("lobby-count").hidden = waiting === 0;
  $("toggle-security").setAttribute("aria-label", waiting ? `Security, ${waiting} waiting in the lobby` : "Security");
  paintControls(person);
  renderGrid();
  replaceList(
    $("people-list"),
    app.snapshot.roster.map((p) =>
      personRow(p, {
        meId: app.you.id,
        canModerate: moderator,
        withReport: true,
        amHost: person?.role === "host",
        onAction: (action, target) => (action === "report" ? openReport(target) : security.act(action, target)),
      }),
    ),
  );
  if (moderator) {
    security.render({ room, roster: app.snapshot.roster, lobby: app.snapshot.lobby, meId: app.you.id, amHost: person?.role === "host" });
  }
}

function renderGrid() {
  if (!app.snapshot || app.phase !== "room") return;
  const videoByPid = new Map();
  const screenByPid = new Map();
  for (const [mid, owner] of app.slotOwners) {
    const track = app.remoteTracks.get(mid);
    if (!track || track.kind !== "video") continue;
    // The SFU names only the person behind a slot: a second video slot carrying the same
    // person is their screen share (a person publishes at most one camera and one screen).
    const isScreen = owner.kind === "screen" || videoByPid.has(owner.pid);
    (isScreen ? screenByPid : videoByPid).set(owner.pid, track);
  }
  if (app.sharing && app.media?.screenTrack) screenByPid.set(app.you.id, app.media.screenTrack);
  grid.render({
    roster: app.snapshot.roster,
    meId: app.you.id,
    localTrack: prejoin.stream?.getVideoTracks()[0] || null,
    cameraOn: app.camOn,
    videoByPid,
    screenByPid,
    speakers: app.speakers,
  });
}

function paintControls(person) {
  const hasAudio = Boolean(prejoin.stream?.getAudioTracks().length);
  const hasVideo = Boolean(prejoin.stream?.getVideoTracks().length);
  paintToggle($("ctl-mic"), { on: app.micOn && hasAudio, kind: "mic" });
  $("ctl-mic").disabled = !hasAudio;
  paintToggle($("ctl-cam"), { on: app.camOn && hasVideo, kind: "cam" });
  $("ctl-cam").disabled = !hasVideo;
  const screen = $("ctl-screen");
  setIcon(screen, "screen");
  screen.setAttribute("aria-pressed", String(app.sharing));
  screen.classList.toggle("is-active", app.sharing);
  const allowed = canShareScreen() && Boolean(navigator.mediaDevices?.getDisplayMedia);
  screen.setAttribute("aria-disabled", String(!allowed));
  screen.setAttribute("aria-label", app.sharing ? "Stop sharing your screen" : "Share your screen");
  screen.title = allowed ? screen.getAttribute("aria-label") : "The host has turned off screen sharing";
  const hand = $("ctl-hand");
  setIcon(hand, "hand");
  const raised = Boolean(person?.hand_raised);
  hand.setAttribute("aria-pressed", String(raised));
  hand.classList.toggle("is-active", raised);
  hand.setAttribute("aria-label", raised ? "Lower hand" : "Raise hand");
  hand.title = hand.getAttribute("aria-label");
  setIcon($("ctl-leave"), "leave");
  $("ctl-leave").title = "Leave room";
}

// --- controls ------------------------------------------------------------------------------------

function setMic(on, { tellServer = true } = {}) {
  app.micOn = on;
  for (const t of prejoin.stream?.getAudioTracks() || []) t.enabled = on;
  if (tellServer) app.socket?.send({ type: "audio.set", muted: !on });
  if (on) $("unmute-request").hidden = true;
  paintControls(me());
}

function toggleMic() {
  setMic(!app.micOn);
  announce(app.micOn ? "Microphone on." : "You're muted.");
}

function toggleCamera() {
  app.camOn = !app.camOn;
  app.media?.setCameraEnabled(app.camOn);
  for (const t of prejoin.stream?.getVideoTracks() || []) t.enabled = app.camOn;
  announce(app.camOn ? "Camera on." : "Camera off.");
  paintControls(me());
  renderGrid();
}

async function toggleScreen() {
  if (app.sharing) {
    await stopScreen();
    return;
  }
  if (!canShareScreen()) {
    toast("The host has turned off screen sharing for participants.");
    announce("The host has turned off screen sharing for participants.");
    return;
  }
  if (!navigator.mediaDevices?.getDisplayMedia) {
    toast("This browser can't share its screen.");
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
  announce("You're sharing your screen.");
  paintControls(me());
  renderGrid();
}

async function stopScreen() {
  if (!app.sharing) return;
  app.sharing = false;
  await app.media?.stopScreen();
  announce("You stopped sharing your screen.");
  paintControls(me());
  renderGrid();
}

function toggleHand() {
  const raised = !me()?.hand_raised;
  app.socket?.send({ type: "hand.set", raised });
  announce(raised ? "You raised your hand." : "You lowered your hand.");
}

async function leave() {
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

/** Stop everything: socket, media, camera. */
function finish() {
  app.phase = "done";
  clearInterval(app.qualityTimer);
  app.socket?.close();
  app.media?.close();
  for (const t of prejoin.stream?.getTracks() || []) t.stop();
  $("reconnecting").hidden = true;
  for (const id of ["panel-people", "panel-security"]) $(id).hidden = true;
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
}

function copyLink() {
  const url = new URL(config.room.link, location.origin).href;
  const done = () => {
    toast("Link copied.");
    announce("Link copied to the clipboard.");
  };
  if (navigator.clipboard?.writeText) {
    navigator.clipboard.writeText(url).then(done, () => window.prompt("Copy this link:", url));
  } else {
    window.prompt("Copy this link:", url);
  }
}

function togglePanel(id, open) {
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
}

// --- wiring --------------------------------------------------------------------------------------

const security = new SecurityPanel({ api: urls.api, confirm: confirmDialog, onReport: openReport });
buildReportReasons();
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
  announce("Microphone on.");
});
$("unmute-dismiss").addEventListener("click", () => {
  $("unmute-request").hidden = true;
});

if (config.room.state === "ended") {
  showWaitScreen("ended", waitContext({ endedBy: config.room.ended_by }));
} else if ($("join-form")) {
  prejoin.open();
}
document.body.dataset.ready = "true";
