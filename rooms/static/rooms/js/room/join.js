// Joining: the pre-join form, the join API, the room socket and getting back in after a drop.

import { api, ApiError, fieldError } from "../lib/api.js";
import { announce } from "../lib/dom.js";
import { finish, waitContext } from "./call.js";
import { $, app, prejoin, urls } from "./context.js";
import { onMessage } from "./routing.js";
import { showWaitScreen } from "./screens.js";
import { CLOSE, RoomSocket } from "./socket.js";
import { gettext, interpolate } from "../lib/i18n.js";

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

// How long Join waits for the camera and microphone the preview is still opening.
const DEVICES_WAIT_MS = 15000;

const FINAL_JOIN_ERRORS = new Set([
  "locked",
  "host_away",
  "full",
  "banned",
  "ended",
  "suspended",
  "sign_in_required",
  "room_not_found",
  "too_many_attempts",
]);

// The API's codes for a room that ended or is full name the wait screens "ended" and "full".
const SCREEN_FOR_CODE = { room_ended: "ended", room_full: "full" };

function screenCode(code) {
  return SCREEN_FOR_CODE[code] || code;
}

async function requestJoin() {
  return api("POST", `${urls.api}join/`, app.joinBody);
}

export async function onJoinSubmit(event) {
  event.preventDefault();
  if (app.phase !== "prejoin") return;
  const nameInput = $("display-name");
  const passwordInput = $("room-password");
  showJoinError("");
  showFieldError(nameInput, "");
  showFieldError(passwordInput, "");
  const displayName = nameInput ? nameInput.value.trim() : "";
  if (nameInput && !displayName) {
    showFieldError(nameInput, gettext("Enter the name others will see."));
    return;
  }
  if (passwordInput && !passwordInput.value) {
    showFieldError(passwordInput, gettext("This room needs a password."));
    return;
  }
  app.joinBody = { display_name: displayName, password: passwordInput ? passwordInput.value : null };
  app.metrics.joinClickedAt = performance.now();
  const button = $("join-button");
  button.disabled = true;
  button.textContent = gettext("Joining…");
  app.phase = "joining";
  try {
    // The devices the preview is still opening are the ones the call publishes: wait for
    // them while the server admits us (bounded: a prompt nobody answers does not hold the
    // join; the call then starts without them).
    const [result] = await Promise.all([requestJoin(), prejoin.settled(DEVICES_WAIT_MS)]);
    app.micOn = prejoin.micOn;
    app.camOn = prejoin.camOn;
    openSocket(result.ticket);
  } catch (error) {
    app.phase = "prejoin";
    button.disabled = false;
    button.textContent = gettext("Join room");
    handleJoinError(error, { nameInput, passwordInput });
  }
}

function handleJoinError(error, { nameInput, passwordInput } = {}) {
  if (!(error instanceof ApiError)) throw error;
  const code = screenCode(error.code);
  // "Too many wrong passwords" says when to try again: the form stays, the password kept.
  if (code === "password_required" || code === "wrong_password" || (code === "too_many_attempts" && passwordInput)) {
    if (!showFieldError(passwordInput, error.message)) showJoinError(interpolate(gettext("%(problem)s Reload the page to enter it."), { problem: error.message }));
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

function openSocket(ticket) {
  app.socket = new RoomSocket(urls.socket, {
    onMessage,
    onOpen: ({ resumed }) => {
      $("reconnecting").hidden = true;
      if (resumed) {
        announce(gettext("Reconnected."));
        const state = app.media?.pc?.connectionState;
        if (app.media && (state === "failed" || state === "closed")) app.media.restart();
      }
    },
    onDrop: () => {
      if (app.phase !== "room" && app.phase !== "lobby") return;
      $("reconnecting").hidden = false;
      announce(gettext("Connection lost. Reconnecting…"), { assertive: true });
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
    const code = error instanceof ApiError ? screenCode(error.code) : "connection_lost";
    showWaitScreen(FINAL_JOIN_ERRORS.has(code) ? code : "connection_lost", waitContext({ message: error.message }));
  }
}
