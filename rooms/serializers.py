"""Input and output shapes of the rooms API.

Inputs only check shape (types, lengths, ranges, choices) so that bad input is a 400 before
any service runs; every rule stays in rooms/services/. Outputs read model attributes and
never expose a password hash, a guest id or a device id.

Names start with "Room" because drf-spectacular names schema components after the class, and
the accounts and feed APIs define their own "User…", "Error…" shapes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from rooms import links, selectors, services
from rooms.adapter import get_adapter
from rooms.models import (
    Audience,
    Ban,
    CoHost,
    Invitation,
    LobbyReason,
    ParticipantState,
    ReportReason,
    ReportStatus,
    Role,
    Room,
    RoomState,
)
from rooms.policy import Reason
from rooms.users import User

# Ids are 64-bit in the database; 2**53 keeps them exact in JavaScript clients too, and stops
# huge numbers from overflowing the database driver (a 500) before any query runs.
MAX_ID = 2**53
MAX_IDS = 200
# The decision reasons a successful join can carry (rooms/policy.py); the rest are refusals,
# answered as errors.
ADMIT_REASONS = [Reason.MODERATOR, Reason.AUDIENCE, Reason.NO_WAITING_ROOM, Reason.RESUMING]
LOBBY_REASONS = [Reason.NOT_STARTED, Reason.WAITING_FOR_HOST, Reason.WAITING_ROOM]
JOIN_REASON_CHOICES = [r.value for r in ADMIT_REASONS + LOBBY_REASONS]


def room_link(room: Room) -> str:
    return links.room_link(room)


# JSON has types: a client that sends 1 for a boolean, true for a password or "7" for an id has
# a bug, and DRF's fields would quietly coerce all three. These refuse the wrong JSON type with a
# 400 (the field's "invalid" message); they are for JSON bodies, not query strings.


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": gettext_lazy("Must be true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class AwareDateTimeField(serializers.DateTimeField):
    """A datetime that must carry its time zone: a naive one is ambiguous, so it is a 400."""

    default_error_messages = {"naive": "Include a time zone, e.g. 2030-01-01T18:00:00+02:00."}

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    return StrictIntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def _id_list(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=_id_field(), max_length=MAX_IDS, **kwargs)


# --- inputs -----------------------------------------------------------------------------------


class RoomCreateInputSerializer(serializers.Serializer):
    title = StrictCharField(max_length=services.TITLE_MAX)
    description = StrictCharField(max_length=services.DESCRIPTION_MAX, allow_blank=True, default="")
    scheduled_start = AwareDateTimeField(allow_null=True, default=None)
    audience = serializers.ChoiceField(choices=Audience.choices, default=Audience.FRIENDS)
    capacity = StrictIntegerField(
        min_value=1, max_value=settings.ROOMS_MAX_CAPACITY, allow_null=True, default=None
    )
    password = StrictCharField(
        max_length=services.PASSWORD_MAX, allow_blank=True, trim_whitespace=False, default=""
    )
    waiting_room = StrictBooleanField(default=True)
    signed_in_only = StrictBooleanField(
        default=False, help_text="Only people signed in to the site may join (no guests)."
    )
    participants_can_share_screen = StrictBooleanField(default=True)
    invitee_ids = _id_list(default=list)


class RoomUpdateInputSerializer(serializers.Serializer):
    """Every field optional; only the fields sent are changed. An empty password removes it."""

    title = StrictCharField(max_length=services.TITLE_MAX, required=False)
    description = StrictCharField(
        max_length=services.DESCRIPTION_MAX, allow_blank=True, required=False
    )
    scheduled_start = AwareDateTimeField(allow_null=True, required=False)
    audience = serializers.ChoiceField(choices=Audience.choices, required=False)
    capacity = StrictIntegerField(
        min_value=1, max_value=settings.ROOMS_MAX_CAPACITY, required=False
    )
    password = StrictCharField(
        max_length=services.PASSWORD_MAX, allow_blank=True, trim_whitespace=False, required=False
    )
    waiting_room = StrictBooleanField(required=False)
    signed_in_only = StrictBooleanField(required=False)
    participants_can_share_screen = StrictBooleanField(required=False)
    several_screen_shares = StrictBooleanField(
        required=False, help_text="Several people may share their screen at once (default: one)."
    )
    locked = StrictBooleanField(required=False)


class RoomJoinInputSerializer(serializers.Serializer):
    display_name = StrictCharField(
        max_length=services.DISPLAY_NAME_MAX,
        allow_blank=True,
        default="",
        help_text="Required for guests; ignored for signed-in users.",
    )
    password = StrictCharField(
        max_length=services.PASSWORD_MAX,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        default=None,
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.context.get("guest") and not attrs["display_name"]:
            raise serializers.ValidationError({"display_name": ["Guests need a display name."]})
        return attrs


class RoomLobbyDecisionInputSerializer(serializers.Serializer):
    participant_ids = _id_list(min_length=1, required=False)
    all = StrictBooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_ids = "participant_ids" in attrs
        wants_all = attrs.get("all") is True
        if has_ids == wants_all:
            raise serializers.ValidationError(
                {"non_field_errors": ['Send either "participant_ids" or "all": true.']}
            )
        return attrs


class RoomRemoveInputSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=services.REASON_MAX, allow_blank=True, default="")


class RoomCoHostInputSerializer(serializers.Serializer):
    user_id = _id_field()


class RoomInviteInputSerializer(serializers.Serializer):
    user_ids = _id_list(min_length=1)


class RoomReportInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    details = StrictCharField(max_length=services.DETAILS_MAX, allow_blank=True, default="")
    target_id = _id_field(allow_null=True, default=None)


# --- outputs ----------------------------------------------------------------------------------


class RoomPublicSerializer(serializers.Serializer):
    """What anyone holding the link may see, guests included."""

    token = serializers.CharField()
    link = serializers.SerializerMethodField()
    title = serializers.CharField()
    description = serializers.CharField()
    host_name = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=RoomState.choices)
    scheduled_start = serializers.DateTimeField(allow_null=True)
    audience = serializers.ChoiceField(choices=Audience.choices)
    has_password = serializers.BooleanField()
    waiting_room = serializers.BooleanField()
    signed_in_only = serializers.BooleanField(help_text="Guests can't join: sign in first.")
    locked = serializers.BooleanField()
    capacity = serializers.IntegerField()
    participant_count = serializers.SerializerMethodField()

    def get_link(self, room: Room) -> str:
        return room_link(room)

    def get_host_name(self, room: Room) -> str:
        return get_adapter().display_name(room.host)

    def get_participant_count(self, room: Room) -> int:
        # List views annotate the count; a single room counts its roster.
        count = getattr(room, "participant_count", None)
        if count is None:
            count = selectors.roster(room=room).count()
        return int(count)


class RoomDetailSerializer(RoomPublicSerializer):
    """The full settings, for the host and co-hosts."""

    host_id = serializers.IntegerField()
    participants_can_share_screen = serializers.BooleanField()
    several_screen_shares = serializers.BooleanField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    opened_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)


class RoomViewSerializer(RoomPublicSerializer):
    """GET rooms/<token>/ in one shape a generated client decodes: the public summary, and for
    the host and co-hosts also the settings below (absent for everyone else). The schema only:
    the view renders RoomPublicSerializer or RoomDetailSerializer."""

    host_id = serializers.IntegerField(required=False, help_text="Hosts and co-hosts only.")
    participants_can_share_screen = serializers.BooleanField(
        required=False, help_text="Hosts and co-hosts only."
    )
    several_screen_shares = serializers.BooleanField(
        required=False, help_text="Hosts and co-hosts only."
    )
    version = serializers.IntegerField(required=False, help_text="Hosts and co-hosts only.")
    created_at = serializers.DateTimeField(required=False, help_text="Hosts and co-hosts only.")
    opened_at = serializers.DateTimeField(
        allow_null=True, required=False, help_text="Hosts and co-hosts only."
    )
    ended_at = serializers.DateTimeField(
        allow_null=True, required=False, help_text="Hosts and co-hosts only."
    )


class RoomParticipantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField(allow_null=True)
    display_name = serializers.CharField()
    is_guest = serializers.BooleanField()
    role = serializers.ChoiceField(choices=Role.choices)
    state = serializers.ChoiceField(choices=ParticipantState.choices)
    lobby_reason = serializers.ChoiceField(
        choices=[("", "Not in the lobby"), *LobbyReason.choices],
        help_text="Why a lobby member waits: not_started (the start time has not come), "
        "waiting_for_host (no host or co-host inside yet) or waiting_room (a host lets people "
        "in); empty for everyone else.",
    )
    hand_raised = serializers.BooleanField()
    audio_muted = serializers.BooleanField()
    camera_off = serializers.BooleanField()
    joined_at = serializers.DateTimeField(allow_null=True)


class RoomDecisionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=["admit", "lobby"], help_text="A refusal is an error response instead."
    )
    reason = serializers.ChoiceField(
        choices=JOIN_REASON_CHOICES,
        help_text="Admitted: moderator (the host or a co-host), audience (a friend or an "
        "invitee of the host), no_waiting_room (the room lets everyone with the link in) or "
        "resuming (back within the grace period, seat kept). In the lobby: not_started, "
        "waiting_for_host or waiting_room, as the participant's lobby_reason.",
    )


class RoomIceServerSerializer(serializers.Serializer):
    urls = serializers.ListField(child=serializers.CharField())
    username = serializers.CharField()
    credential = serializers.CharField()


class RoomJoinOutputSerializer(serializers.Serializer):
    participant = RoomParticipantSerializer()
    decision = RoomDecisionSerializer()
    ticket = serializers.CharField(help_text="Single-use, short-lived: open the room socket.")
    ice_servers = RoomIceServerSerializer(
        many=True,
        help_text="Time-limited TURN credentials; only when admitted (lobby members get them "
        "in their snapshot once let in).",
    )


class RoomRosterSerializer(serializers.Serializer):
    participants = RoomParticipantSerializer(many=True)
    lobby = RoomParticipantSerializer(
        many=True, required=False, help_text="Only for the host and co-hosts."
    )


class RoomParticipantListSerializer(serializers.Serializer):
    participants = RoomParticipantSerializer(many=True)


class RoomBanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField(allow_null=True)
    display_name = serializers.CharField()
    is_guest = serializers.SerializerMethodField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_is_guest(self, ban: Ban) -> bool:
        return ban.user_id is None


class RoomMemberSerializer(serializers.Serializer):
    """A co-host or an invited person."""

    user_id = serializers.IntegerField()
    display_name = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_display_name(self, member: CoHost | Invitation) -> str:
        return get_adapter().display_name(member.user)


class RoomReportOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    created_at = serializers.DateTimeField()


class RoomErrorSerializer(serializers.Serializer):
    """The one error shape of the API (rooms/errors.py)."""

    error = inline_serializer(
        name="RoomErrorDetail",
        fields={
            "code": serializers.CharField(),
            "message": serializers.CharField(),
            # Named in a dict: a class attribute "fields" would shadow Serializer.fields.
            "fields": serializers.DictField(
                required=False, help_text="Per-field messages, on a 400."
            ),
        },
    )


# --- room cards (the rooms at the top of a feed) ----------------------------------------------


class RoomCardPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    display_name = serializers.SerializerMethodField()

    def get_display_name(self, user: User) -> str:
        return get_adapter().display_name(user)


class RoomCardFriendSerializer(serializers.Serializer):
    """A friend of the viewer inside the room (a Participant), by the name the room shows."""

    id = serializers.IntegerField(source="user_id")
    display_name = serializers.CharField()


class RoomCardSerializer(serializers.Serializer):
    """A room as a feed shows it: the API (GET rooms/feed/), the live feed socket and the
    strip template (rooms/_strip.html) all draw this card. Public: a site may use it in its own
    feed API, for rooms from `rooms.selectors.feed_rooms`."""

    token = serializers.CharField()
    link = serializers.SerializerMethodField()
    title = serializers.CharField()
    description = serializers.CharField()
    host = RoomCardPersonSerializer()
    state = serializers.ChoiceField(choices=[RoomState.SCHEDULED, RoomState.OPEN])
    scheduled_start = serializers.DateTimeField(allow_null=True)
    participant_count = serializers.IntegerField()
    host_present = serializers.BooleanField(help_text="A host or co-host is inside now.")
    friends_inside = RoomCardFriendSerializer(many=True)
    audience = serializers.ChoiceField(choices=Audience.choices)
    has_password = serializers.BooleanField()

    def get_link(self, room: Room) -> str:
        return room_link(room)


class RoomFeedSerializer(serializers.Serializer):
    live = RoomCardSerializer(many=True, help_text="Live rooms, most people first.")
    upcoming = RoomCardSerializer(many=True, help_text="Scheduled rooms, soonest first.")
