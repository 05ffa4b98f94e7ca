// The call: entering the room, the media session, the grid and panels drawn from the snapshot,
// and stopping everything at the end.

import { announce, h } from "../lib/dom.js";
import { $, amModerator, app, canShareScreen, config, grid, me, prejoin, urls } from "./context.js";
import { leave, togglePanel } from "./controls.js";
import { openReport } from "./dialogs.js";
import { setIcon } from "./icons.js";
import { MediaSession } from "./media.js";
import { paintToggle } from "./prejoin.js";
import { personRow, replaceList } from "./ui.js";
import { formatNumber, formatPercent, gettext, interpolate, ngettext, pgettext } from "../lib/i18n.js";

const MAX_AUDIO_SLOTS = 3;
const MAX_VIDEO_SLOTS = 9;
const QUALITY_MS = 2000;

/** What the wait screens (screens.js) need: who hosts, where to go next, what the buttons do. */
export function waitContext(extra = {}) {
  return {
    hostName: config.room.host_name,
    signedIn: config.viewer.signed_in,
    signInUrl: config.sign_in_url,
    homeUrl: urls.home,
    scheduledStart: config.room.scheduled_start,
    on: { leave: leave, retry: () => location.reload(), rejoin: () => location.reload() },
    ...extra,
  };
}

export function enterRoom() {
  app.phase = "room";
  $("screen-prejoin").hidden = true;
  $("screen-wait").hidden = true;
  $("screen-room").hidden = false;
  // On a phone the call takes the whole screen, over the site's navigation (rooms.css).
  document.documentElement.classList.add("rooms-in-call");
  $("call-heading").focus?.();
  announce(app.wasInLobby ? gettext("You were let in. You're in the room.") : gettext("You're in the room."));
  const person = me();
  if (person?.audio_muted) app.micOn = false;
  if (!app.micOn && person && !person.audio_muted) app.socket.send({ type: "audio.set", muted: true });
  // Before the offer (the socket keeps order): a camera that is off is never forwarded.
  if (!prejoin.stream?.getVideoTracks().length) app.camOn = false;
  if (person && person.camera_off === app.camOn) app.socket.send({ type: "camera.set", off: !app.camOn });
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

export function onSlots(slots) {
  app.slots = slots;
  app.slotOwners.clear();
  for (const [mid, owner] of Object.entries(slots)) {
    // {participant_id, kind: "audio" | "camera" | "screen"}, or null for an idle slot.
    if (!owner || typeof owner !== "object") continue;
    const pid = Number(owner.participant_id);
    if (Number.isFinite(pid)) app.slotOwners.set(mid, { pid, kind: owner.kind });
  }
  renderGrid();
}

export function onMediaState(state) {
  if (state === "moving") {
    // The room moved to another media server: no visible change, the old one plays until
    // the new one is connected.
    app.media?.move();
  } else if (state === "failed") {
    showMediaStatus(gettext("Reconnecting audio and video…"));
    app.media?.restart();
  } else if (state === "connected") {
    showMediaStatus("");
  }
}

export function showMediaStatus(text) {
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
  const words = {
    good: gettext("Connection quality: good"),
    fair: gettext("Connection quality: fair"),
    poor: gettext("Connection quality: poor"),
    unknown: gettext("Connection quality: measuring"),
  };
  let text = words[q.level] || words.unknown;
  if (q.level !== "unknown") {
    const parts = [];
    if (q.rtt !== null && q.rtt !== undefined) {
      parts.push(interpolate(gettext("round trip %(ms)s ms"), { ms: formatNumber(Math.round(q.rtt * 1000)) }));
    }
    parts.push(interpolate(gettext("packet loss %(percent)s"), { percent: formatPercent(q.loss) }));
    text = interpolate(gettext("%(quality)s (%(details)s)"), { quality: text, details: parts.join(pgettext("list separator", ", ")) });
  }
  el.dataset.level = q.level;
  el.setAttribute("aria-label", text);
  el.title = text;
}

// --- rendering -----------------------------------------------------------------------------------

export function render() {
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
  $("toggle-security").setAttribute("aria-label", waiting
    ? interpolate(ngettext("Security, %(count)s waiting in the lobby", "Security, %(count)s waiting in the lobby", waiting), { count: formatNumber(waiting) })
    : gettext("Security"));
  paintControls(person);
  renderGrid();
  renderLobbyPrompt();
  replaceList(
    $("people-list"),
    app.snapshot.roster.map((p) =>
      personRow(p, {
        meId: app.you.id,
        canModerate: moderator,
        withReport: true,
        amHost: person?.role === "host",
        onAction: (action, target) => (action === "report" ? openReport(target) : app.security.act(action, target)),
      }),
    ),
  );
  if (moderator) {
    app.security.render({
      room,
      roster: app.snapshot.roster,
      lobby: app.snapshot.lobby,
      meId: app.you.id,
      amHost: person?.role === "host",
    });
  }
}

/** The knock prompt above the call (hosts and co-hosts), unless the Security panel shows the lobby. */
export function renderLobbyPrompt() {
  if (!app.snapshot || !app.lobbyPrompt) return;
  app.lobbyPrompt.render({ lobby: app.snapshot.lobby, moderator: amModerator(), panelOpen: !$("panel-security").hidden });
}

export function renderGrid() {
  if (!app.snapshot || app.phase !== "room") return;
  const videoByPid = new Map();
  const screenByPid = new Map();
  for (const [mid, owner] of app.slotOwners) {
    const track = app.remoteTracks.get(mid);
    if (!track || track.kind !== "video") continue;
    if (owner.kind === "screen") screenByPid.set(owner.pid, track);
    else if (owner.kind === "camera") videoByPid.set(owner.pid, track);
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

export function paintControls(person) {
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
  screen.setAttribute("aria-label", app.sharing ? gettext("Stop sharing your screen") : gettext("Share your screen"));
  screen.title = allowed ? screen.getAttribute("aria-label") : gettext("The host has turned off screen sharing");
  const hand = $("ctl-hand");
  setIcon(hand, "hand");
  const raised = Boolean(person?.hand_raised);
  hand.setAttribute("aria-pressed", String(raised));
  hand.classList.toggle("is-active", raised);
  hand.setAttribute("aria-label", raised ? gettext("Lower hand") : gettext("Raise hand"));
  hand.title = hand.getAttribute("aria-label");
  setIcon($("ctl-leave"), "leave");
  $("ctl-leave").title = gettext("Leave room");
}

/** Stop everything: socket, media, camera. */
export function finish() {
  app.phase = "done";
  document.documentElement.classList.remove("rooms-in-call");
  clearInterval(app.qualityTimer);
  app.socket?.close();
  app.media?.close();
  for (const t of prejoin.stream?.getTracks() || []) t.stop();
  $("reconnecting").hidden = true;
  for (const id of ["panel-people", "panel-security"]) $(id).hidden = true;
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
}
