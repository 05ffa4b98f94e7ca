// The room page's state and the few questions asked of it everywhere. The other modules
// (join, dialogs, routing, announcements, call, controls) read and change `app`; main.js wires them.
//
// State comes from the server only: a snapshot, then versioned events applied with
// state.applyEvent (the mirror of rooms/events.apply_event).

import { setCsrfToken } from "../lib/api.js";
import { PreJoin } from "./prejoin.js";
import { isModeratorRole } from "./state.js";
import { Grid } from "./ui.js";

export const $ = (id) => document.getElementById(id);
export const config = JSON.parse($("room-config").textContent);
// Every URL comes from the page (rooms/views.py): the site may mount Rooms under any prefix.
export const urls = config.urls;
setCsrfToken(config.csrf_token);

export const app = {
  phase: "prejoin", // prejoin | joining | lobby | room | done
  snapshot: null,
  you: null, // the snapshot's "you" (role, can_share_screen, ice_servers)
  speakers: [],
  slots: {}, // the last media.slots: mid -> {participant_id, kind} or null
  slotOwners: new Map(), // mid -> {pid, kind: "audio" | "camera" | "screen"}
  remoteTracks: new Map(), // mid -> MediaStreamTrack
  pendingSlots: null, // media.slots received during a move, applied when the new connection takes over
  micOn: true,
  camOn: true,
  sharing: false,
  socket: null,
  media: null,
  security: null, // the SecurityPanel (main.js)
  lobbyPrompt: null, // the LobbyPrompt (main.js)
  joinBody: null,
  wasInLobby: false,
  qualityTimer: 0,
  metrics: { joinClickedAt: null, firstRemoteFrameAt: null },
};
// For the browser tests and for debugging from the console.
window.roomsDebug = app;

export const prejoin = new PreJoin();
export const grid = new Grid($("grid"), {
  onFirstFrame: () => {
    if (app.metrics.firstRemoteFrameAt === null) app.metrics.firstRemoteFrameAt = performance.now();
  },
});

/** The visitor's own roster entry, once in the room. */
export function me() {
  if (!app.snapshot || !app.you) return null;
  return app.snapshot.roster.find((p) => p.id === app.you.id) || null;
}

export function amModerator() {
  const person = me();
  return Boolean(person && isModeratorRole(person.role));
}

export function canShareScreen() {
  return amModerator() || Boolean(app.snapshot?.room.participants_can_share_screen);
}
