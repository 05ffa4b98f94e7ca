"""Every rule about rooms. Views, consumers, tasks and admin actions only call these.

One module per concern; this package re-exports their public names, so callers write
`from rooms import services; services.room_join(...)`:

- `rooms`: create a room, change its settings, end it.
- `admission`: join (the join decision, passwords, the join limiter), the lobby, join tickets
  and resume tokens.
- `presence`: sockets connect, drop and resume; web-process leases; releasing vanished seats;
  hands and one's own microphone; leaving.
- `moderation`: lock, mute, remove and ban, co-hosts, invitations.
- `reports`: report a room or someone in it; staff resolve reports.
- `schedules`: "I'll be there", and what the clock decides (start, no-show, idle).

Every service locks the room row first and writes the audit log (`_common`: `_lock_room`,
`_record`); `_common` and `_seats` hold the helpers the concerns share.
"""

from rooms.policy import Decision
from rooms.services._common import PASSWORD_MAX, Identity, is_moderator
from rooms.services.admission import (
    DISPLAY_NAME_MAX,
    RESUME_SALT,
    TICKET_SALT,
    JoinDenied,
    JoinResult,
    JoinThrottled,
    PasswordCheck,
    Resume,
    is_banned,
    join_ticket_redeem,
    lobby_admit,
    lobby_deny,
    participant_resume,
    room_join,
)
from rooms.services.moderation import (
    REASON_MAX,
    ban_lift,
    cohost_add,
    cohost_remove,
    invitation_add,
    invitation_remove,
    participant_ask_unmute,
    participant_mute,
    participant_mute_all,
    participant_remove,
    room_set_locked,
)
from rooms.services.presence import (
    Connection,
    participant_connected,
    participant_disconnected,
    participant_for,
    participant_set_camera,
    participant_set_hand,
    participant_set_muted,
    release_vanished_seats,
    room_leave,
    room_leave_visit,
    socket_server_renew,
    socket_servers_expire,
)
from rooms.services.reports import (
    DETAILS_MAX,
    report_create,
    report_from_participant,
    report_resolve,
)
from rooms.services.rooms import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    room_create,
    room_end,
    room_set_capacity,
    room_set_screen_share,
    room_set_signed_in_only,
    room_set_waiting_room,
    room_update,
)
from rooms.services.schedules import (
    RsvpState,
    room_end_if_idle,
    room_expire_no_show,
    room_start_reached,
    rsvp_set,
)

__all__ = [
    "DESCRIPTION_MAX",
    "DETAILS_MAX",
    "DISPLAY_NAME_MAX",
    "PASSWORD_MAX",
    "REASON_MAX",
    "RESUME_SALT",
    "TICKET_SALT",
    "TITLE_MAX",
    "Connection",
    "Decision",
    "Identity",
    "JoinDenied",
    "JoinResult",
    "JoinThrottled",
    "PasswordCheck",
    "Resume",
    "RsvpState",
    "ban_lift",
    "cohost_add",
    "cohost_remove",
    "invitation_add",
    "invitation_remove",
    "is_banned",
    "is_moderator",
    "join_ticket_redeem",
    "lobby_admit",
    "lobby_deny",
    "participant_ask_unmute",
    "participant_connected",
    "participant_disconnected",
    "participant_for",
    "participant_mute",
    "participant_mute_all",
    "participant_remove",
    "participant_resume",
    "participant_set_camera",
    "participant_set_hand",
    "participant_set_muted",
    "release_vanished_seats",
    "report_create",
    "report_from_participant",
    "report_resolve",
    "room_create",
    "room_end",
    "room_end_if_idle",
    "room_expire_no_show",
    "room_join",
    "room_leave",
    "room_leave_visit",
    "room_set_capacity",
    "room_set_locked",
    "room_set_screen_share",
    "room_set_signed_in_only",
    "room_set_waiting_room",
    "room_start_reached",
    "room_update",
    "rsvp_set",
    "socket_server_renew",
    "socket_servers_expire",
]
