// What changed in the room, said to screen readers (and the visitor's own mute state).

import { announce, toast } from "../lib/dom.js";
import { amModerator, app } from "./context.js";
import { setMic, stopScreen } from "./controls.js";

export function describeEvent(event, before) {
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
