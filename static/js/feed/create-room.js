// The "Create room" dialog: POST /api/rooms/, then straight into the room when it starts now.

import { api, fieldError } from "../../rooms/js/lib/api.js";
import { announce, h, toast } from "../../rooms/js/lib/dom.js";
import { gettext, interpolate, ngettext } from "../../rooms/js/lib/i18n.js";
import { generatePassword } from "../lib/password.js";
import { upsertCard } from "../../rooms/js/strip.js";

const $ = (id) => document.getElementById(id);

let friends = null; // loaded on first use of the picker

function showError(id, text) {
  const el = $(id);
  el.textContent = text;
  el.hidden = !text;
  const input = el.id.endsWith("-error") ? $(el.id.slice(0, -"-error".length)) : null;
  if (input) input.setAttribute("aria-invalid", text ? "true" : "false");
}

/** Every row of a paginated list: the API's lists come a page at a time ({next, results}). */
async function allPages(url) {
  const rows = [];
  for (let next = url; next; ) {
    const page = await api("GET", next);
    rows.push(...page.results);
    next = page.next;
  }
  return rows;
}

async function loadFriends() {
  if (friends) return;
  try {
    friends = await allPages("/api/friends/?page_size=200");
  } catch (error) {
    friends = [];
    showError("friend-error", error.message);
  }
  drawFriends();
}

function drawFriends() {
  const filter = $("friend-filter").value.trim().toLowerCase();
  const list = $("friend-list");
  const checked = new Set([...list.querySelectorAll("input:checked")].map((i) => i.value));
  const shown = (friends || []).filter(
    (f) => !filter || f.display_name.toLowerCase().includes(filter) || f.username.toLowerCase().includes(filter),
  );
  list.replaceChildren(
    ...shown.map((f) => {
      const id = `invite-${f.id}`;
      return h(
        "li",
        {},
        h(
          "label",
          { for: id },
          h("input", { type: "checkbox", id, value: String(f.id), checked: checked.has(String(f.id)) }),
          h("span", { translate: "no" }, f.display_name),
          " ",
          h("span", { class: "muted", translate: "no" }, `@${f.username}`),
        ),
      );
    }),
  );
  // Keep hidden choices: filtering must not drop people already picked.
  for (const value of checked) {
    if (!shown.some((f) => String(f.id) === value)) {
      list.append(h("input", { type: "checkbox", value, checked: true, hidden: true, tabindex: "-1" }));
    }
  }
  $("friend-empty").hidden = shown.length > 0;
  if (friends && friends.length === 0) {
    $("friend-empty").textContent = gettext("You have no friends to invite yet.");
    $("friend-empty").hidden = false;
  }
}

function syncVisibility() {
  const later = $("when-later").checked;
  $("when-later-fields").hidden = !later;
  $("room-start").required = later;
  const inviteOnly = $("audience-invite").checked;
  $("friend-picker").hidden = !inviteOnly;
  if (inviteOnly) loadFriends();
}

function defaultStart() {
  const d = new Date(Date.now() + 60 * 60 * 1000);
  d.setMinutes(0, 0, 0);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function submit(event) {
  event.preventDefault();
  for (const id of ["room-title-error", "room-start-error", "room-password-new-error", "friend-error", "create-room-error"]) {
    showError(id, "");
  }
  const title = $("room-title").value.trim();
  if (!title) {
    showError("room-title-error", gettext("Give your room a title."));
    $("room-title").focus();
    return;
  }
  const password = $("room-password-new");
  if (password.value && password.value.length < password.minLength) {
    const atLeast = ngettext(
      "A room password needs at least %(count)s character.",
      "A room password needs at least %(count)s characters.",
      password.minLength,
    );
    showError("room-password-new-error", interpolate(atLeast, { count: password.minLength }));
    password.focus();
    return;
  }
  const body = {
    title,
    description: $("room-description").value.trim(),
    audience: $("audience-invite").checked ? "invite_only" : "friends",
    password: $("room-password-new").value,
    waiting_room: $("room-waiting").checked,
    signed_in_only: $("room-signed-in-only").checked,
    scheduled_start: null,
    invitee_ids: [],
  };
  if ($("when-later").checked) {
    const value = $("room-start").value;
    const start = value ? new Date(value) : null;
    if (!start || Number.isNaN(start.getTime()) || start.getTime() < Date.now()) {
      showError("room-start-error", gettext("Pick a date and time in the future."));
      $("room-start").focus();
      return;
    }
    body.scheduled_start = start.toISOString(); // carries its time zone (UTC), as the API asks
  }
  if (body.audience === "invite_only") {
    body.invitee_ids = [...$("friend-list").querySelectorAll("input:checked")].map((i) => Number(i.value));
  }
  const button = $("create-room-submit");
  button.disabled = true;
  button.textContent = gettext("Creating…");
  try {
    const room = await api("POST", "/api/rooms/", body);
    if (!body.scheduled_start) {
      location.assign(room.link);
      return;
    }
    $("create-room").close();
    upsertCard({ ...room, host: { display_name: room.host_name }, friends_inside: [] });
    announce(interpolate(gettext("Room “%(title)s” scheduled."), { title: room.title }));
    $("create-room-form").reset();
    hidePassword();
    syncVisibility();
  } catch (error) {
    const titleError = fieldError(error, "title");
    const startError = fieldError(error, "scheduled_start");
    const passwordError = error.code?.startsWith("password_") ? error.message : fieldError(error, "password");
    if (titleError) showError("room-title-error", titleError);
    else if (startError) showError("room-start-error", startError);
    else if (passwordError) showError("room-password-new-error", passwordError);
    else showError("create-room-error", error.message);
  } finally {
    button.disabled = false;
    button.textContent = gettext("Create room");
  }
}

// A generated password is shown (the host has to pass it on); one typed by hand stays hidden.
function showGeneratedPassword() {
  const input = $("room-password-new");
  input.value = generatePassword();
  input.type = "text";
  showError("room-password-new-error", "");
  $("room-password-copy").hidden = !navigator.clipboard;
  input.focus();
  input.select();
  announce(gettext("A strong password was generated and is shown in the password field."));
}

function hidePassword() {
  $("room-password-new").type = "password";
  $("room-password-copy").hidden = true;
}

async function copyPassword() {
  try {
    await navigator.clipboard.writeText($("room-password-new").value);
    toast(gettext("Password copied."));
    announce(gettext("Password copied."));
  } catch {
    $("room-password-new").select();
    toast(gettext("Couldn't copy: the password is selected, copy it yourself."));
  }
}

export function setUpCreateRoom() {
  const dialog = $("create-room");
  const opener = $("create-room-open");
  if (!opener || !dialog) return; // a suspended account has no "Create room"
  opener.addEventListener("click", () => {
    if (!$("room-start").value) $("room-start").value = defaultStart();
    syncVisibility();
    dialog.showModal();
    $("room-title").focus();
  });
  dialog.addEventListener("close", () => opener.focus());
  $("create-room-cancel").addEventListener("click", () => dialog.close());
  for (const input of dialog.querySelectorAll('input[name="when"], input[name="audience"]')) {
    input.addEventListener("change", syncVisibility);
  }
  $("friend-filter").addEventListener("input", drawFriends);
  $("room-password-generate").addEventListener("click", showGeneratedPassword);
  $("room-password-copy").addEventListener("click", copyPassword);
  // Cleared, the field hides again: a password typed from scratch is not shown.
  $("room-password-new").addEventListener("input", (event) => {
    if (!event.target.value) hidePassword();
  });
  $("create-room-form").addEventListener("submit", submit);
}
