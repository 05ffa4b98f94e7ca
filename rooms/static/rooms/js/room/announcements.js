// What changed in the room, said to screen readers (and the visitor's own mute state).

import { announce, toast } from "../lib/dom.js";
import { amModerator, app } from "./context.js";
import { setMic, stopScreen } from "./controls.js";
import { gettext, interpolate } from "../lib/i18n.js";

export function describeEvent(event, before) {
  const person = event.participant;
  const mine = person && app.you && person.id === app.you.id;
  switch (event.type) {
    case "room.participant_joined":
      if (!mine) announce(interpolate(gettext("%(name)s joined."), { name: person.display_name }));
      break;
    case "room.participant_left":
      if (!mine) announce(interpolate(gettext("%(name)s left."), { name: person.display_name }));
      break;
    case "room.participant_removed":
      if (!mine) announce(interpolate(gettext("%(name)s was removed."), { name: person.display_name }));
      break;
    case "room.lobby_waiting":
      announce(
        interpolate(
          amModerator()
            ? gettext("%(name)s is waiting in the lobby. Admit or deny them at the top of the call.")
            : gettext("%(name)s is waiting in the lobby."),
          { name: person.display_name },
        ),
      );
      break;
    case "room.cohost_added":
      if (person) announce(mine ? gettext("You are now a co-host.") : interpolate(gettext("%(name)s is now a co-host."), { name: person.display_name }));
      break;
    case "room.cohost_removed":
      if (person && mine) announce(gettext("You are no longer a co-host."));
      break;
    case "room.locked":
      // Who did it: the room itself when its hosts left, or the host, a co-host, a moderator.
      announce(
        event.data?.reason === "host_left"
          ? gettext("The hosts left, so the room locked itself until one is back.")
          : {
              host: gettext("The host locked the room."),
              cohost: gettext("A co-host locked the room."),
              moderator: gettext("A moderator of the site locked the room."),
            }[event.data?.by] || gettext("The room is locked."),
      );
      break;
    case "room.unlocked":
      announce(gettext("The room is unlocked."));
      break;
    case "room.participant_updated": {
      const old = before.roster.find((p) => p.id === person.id);
      if (mine && person.audio_muted && app.micOn) {
        setMic(false, { tellServer: false });
        announce(gettext("The host muted you."), { assertive: true });
        toast(gettext("The host muted you."));
      } else if (!mine && old && !old.audio_muted && person.audio_muted) {
        announce(interpolate(gettext("%(name)s is muted."), { name: person.display_name }));
      }
      if (!mine && old && !old.hand_raised && person.hand_raised) announce(interpolate(gettext("%(name)s raised their hand."), { name: person.display_name }));
      break;
    }
    default:
      break;
  }
  if (event.room && before.room.participants_can_share_screen && !event.room.participants_can_share_screen) {
    if (!amModerator()) {
      if (app.sharing) {
        // The SFU has already stopped forwarding the share: say so where the sharer looks.
        const text = gettext("A host turned off screen sharing for participants, so your screen is no longer shared.");
        toast(text);
        announce(text, { assertive: true });
        stopScreen({ quiet: true });
      } else {
        announce(gettext("A host turned off screen sharing for participants."));
      }
    }
  }
}
