from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def new_link_token() -> str:
    # 24 random bytes = 192 bits, URL-safe base64 (32 characters).
    return secrets.token_urlsafe(24)


class Audience(models.TextChoices):
    FRIENDS = "friends", _("All my friends")
    INVITE_ONLY = "invite_only", _("Only people I invite")


class RoomState(models.TextChoices):
    SCHEDULED = "scheduled", _("Not started")
    OPEN = "open", _("Live")
    ENDED = "ended", _("Ended")


class Room(models.Model):
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="hosted_rooms",
        verbose_name=_("host"),
    )
    title = models.CharField(max_length=120, verbose_name=_("title"))
    description = models.TextField(max_length=2000, blank=True, verbose_name=_("description"))
    scheduled_start = models.DateTimeField(null=True, blank=True, verbose_name=_("scheduled start"))
    audience = models.CharField(
        max_length=20,
        choices=Audience.choices,
        default=Audience.FRIENDS,
        verbose_name=_("audience"),
    )
    capacity = models.PositiveSmallIntegerField(
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        verbose_name=_("capacity"),
    )
    token = models.CharField(
        max_length=64, unique=True, default=new_link_token, verbose_name=_("token")
    )
    password_hash = models.CharField(max_length=256, blank=True, verbose_name=_("password hash"))
    waiting_room = models.BooleanField(default=True, verbose_name=_("waiting room"))
    # Only people signed in to the site may join: bans and blocks attach to accounts, so they
    # hold fully; a guest's cookies can be dropped for a fresh identity.
    signed_in_only = models.BooleanField(default=False, verbose_name=_("signed in only"))
    locked = models.BooleanField(default=False, verbose_name=_("locked"))
    participants_can_share_screen = models.BooleanField(
        default=True, verbose_name=_("participants can share screen")
    )
    # One screen share at a time unless the host allows several (the SFU enforces it).
    several_screen_shares = models.BooleanField(
        default=False, verbose_name=_("several screen shares")
    )
    state = models.CharField(
        max_length=10,
        choices=RoomState.choices,
        default=RoomState.SCHEDULED,
        db_index=True,
        verbose_name=_("state"),
    )
    # Bumped by every audited change; live clients use it to notice missed events.
    version = models.PositiveIntegerField(default=0, verbose_name=_("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    opened_at = models.DateTimeField(null=True, blank=True, verbose_name=_("opened at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1) & Q(capacity__lte=50), name="room_capacity_1_50"
            ),
        ]
        indexes = [models.Index(fields=["state", "scheduled_start"])]

    def __str__(self) -> str:
        return self.title

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)


class Invitation(models.Model):
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="room_invitations",
        verbose_name=_("user"),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # When `rooms.signals.room_invitation` told the host site about it (rooms/announce.py):
    # each invitation is announced once.
    announced_at = models.DateTimeField(null=True, blank=True, verbose_name=_("announced at"))

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="invite_once")]


class CoHost(models.Model):
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="cohosts", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="cohosted_rooms",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("co-host")
        verbose_name_plural = _("co-hosts")
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="cohost_once")]


class Rsvp(models.Model):
    """Someone said "I'll be there" to a scheduled room: they get its reminder."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="rsvps", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="room_rsvps",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("RSVP")
        verbose_name_plural = _("RSVPs")
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="rsvp_once")]


class Role(models.TextChoices):
    HOST = "host", _("Host")
    COHOST = "cohost", _("Co-host")
    PARTICIPANT = "participant", _("Participant")


class ParticipantState(models.TextChoices):
    LOBBY = "lobby", _("In the lobby")
    ADMITTED = "admitted", _("In the room")
    LEFT = "left", _("Left")
    DENIED = "denied", _("Denied")
    REMOVED = "removed", _("Removed")


ACTIVE_STATES = (ParticipantState.LOBBY, ParticipantState.ADMITTED)


class LobbyReason(models.TextChoices):
    WAITING_FOR_HOST = "waiting_for_host", _("Waiting for the host")
    WAITING_ROOM = "waiting_room", _("Waiting to be admitted")
    NOT_STARTED = "not_started", _("Waiting for the start time")


class Participant(models.Model):
    """One visit of one identity (an account or a guest) to a room.

    A person has at most one active (lobby or admitted) row per room; coming back after
    leaving starts a new row, so join and leave times add up to true meeting minutes.
    """

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="participants", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="room_visits",
        verbose_name=_("user"),
    )
    guest_id = models.CharField(
        max_length=64, blank=True, db_index=True, verbose_name=_("guest id")
    )
    device_id = models.CharField(max_length=64, blank=True, verbose_name=_("device id"))
    display_name = models.CharField(max_length=80, verbose_name=_("display name"))
    role = models.CharField(
        max_length=12, choices=Role.choices, default=Role.PARTICIPANT, verbose_name=_("role")
    )
    state = models.CharField(
        max_length=10, choices=ParticipantState.choices, verbose_name=_("state")
    )
    lobby_reason = models.CharField(
        max_length=20, choices=LobbyReason.choices, blank=True, verbose_name=_("lobby reason")
    )
    # Only the newest join ticket is valid; redeeming it clears the nonce (single use).
    ticket_nonce = models.CharField(max_length=64, blank=True, verbose_name=_("ticket nonce"))
    # Set while the person has no live socket: at admission (until they connect) and when a
    # socket drops. The seat is kept for ROOMS_RESUME_GRACE_SECONDS, then released.
    disconnected_at = models.DateTimeField(null=True, blank=True, verbose_name=_("disconnected at"))
    # Rotated on every socket connect; the resume token carries it.
    resume_nonce = models.CharField(max_length=64, blank=True, verbose_name=_("resume nonce"))
    # The web process holding the live socket (rooms.lease); its lease keeps the seat
    # connected. Empty while disconnected, or when the process runs no lease.
    server = models.CharField(max_length=100, blank=True, db_index=True, verbose_name=_("server"))
    hand_raised = models.BooleanField(default=False, verbose_name=_("hand raised"))
    audio_muted = models.BooleanField(default=False, verbose_name=_("audio muted"))
    # The person turned their camera off (or has none): the SFU forwards none of it, and
    # everyone shows their initials with a camera-off mark.
    camera_off = models.BooleanField(default=False, verbose_name=_("camera off"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    joined_at = models.DateTimeField(null=True, blank=True, verbose_name=_("joined at"))
    left_at = models.DateTimeField(null=True, blank=True, verbose_name=_("left at"))

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(
                fields=["room", "user"],
                condition=Q(state__in=ACTIVE_STATES) & Q(user__isnull=False),
                name="one_active_visit_per_user",
            ),
            models.UniqueConstraint(
                fields=["room", "guest_id"],
                condition=Q(state__in=ACTIVE_STATES) & ~Q(guest_id=""),
                name="one_active_visit_per_guest",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(guest_id=""), name="participant_has_identity"
            ),
        ]
        indexes = [
            models.Index(fields=["room", "state"]),
            # The usage dashboard finds the visits that ended in its window, or are still open
            # (no leave time), through this index, however long the history (rooms.usage).
            models.Index(fields=["left_at", "joined_at"], name="participant_visit_times"),
        ]

    def __str__(self) -> str:
        return _("%(name)s in room %(room)s") % {"name": self.display_name, "room": self.room_id}

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.HOST, Role.COHOST)


class SocketServer(models.Model):
    """A web process holding room sockets, renewing its lease while it lives. When it stops
    renewing (killed, frozen, cut off), the seats of its sockets count as dropped from its
    last renewal on, and their people resume through another process."""

    id = models.CharField(max_length=100, primary_key=True, verbose_name=_("ID"))
    last_seen = models.DateTimeField(db_index=True, verbose_name=_("last seen"))

    class Meta:
        verbose_name = _("socket server")
        verbose_name_plural = _("socket servers")

    def __str__(self) -> str:
        return self.id


class Ban(models.Model):
    """Keeps a removed person out: by account, by guest identity and by device cookie."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="bans", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    guest_id = models.CharField(max_length=64, blank=True, verbose_name=_("guest id"))
    device_id = models.CharField(max_length=64, blank=True, verbose_name=_("device id"))
    display_name = models.CharField(max_length=80, verbose_name=_("display name"))
    reason = models.CharField(max_length=500, blank=True, verbose_name=_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("ban")
        verbose_name_plural = _("bans")

    def __str__(self) -> str:
        return _("%(name)s banned from room %(room)s") % {
            "name": self.display_name,
            "room": self.room_id,
        }


class AuditEvent(models.Model):
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="audit_events", verbose_name=_("room")
    )
    kind = models.CharField(max_length=50, verbose_name=_("kind"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(max_length=80, blank=True, verbose_name=_("actor name"))
    target = models.ForeignKey(
        Participant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("target"),
    )
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    version = models.PositiveIntegerField(verbose_name=_("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.kind


class ReportReason(models.TextChoices):
    HARASSMENT = "harassment", _("Harassment or bullying")
    HATE = "hate", _("Hate speech")
    NUDITY = "nudity", _("Nudity or sexual content")
    VIOLENCE = "violence", _("Violence")
    SPAM = "spam", _("Spam or scam")
    OTHER = "other", _("Something else")


class ReportStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("report status", "Open")
    RESOLVED = "resolved", _("Resolved")


class Report(models.Model):
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="reports", verbose_name=_("room")
    )
    reporter = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="+", verbose_name=_("reporter")
    )
    target = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("target"),
    )
    reason = models.CharField(max_length=20, choices=ReportReason.choices, verbose_name=_("reason"))
    details = models.TextField(max_length=2000, blank=True, verbose_name=_("details"))
    status = models.CharField(
        max_length=10,
        choices=ReportStatus.choices,
        default=ReportStatus.OPEN,
        db_index=True,
        verbose_name=_("status"),
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution_note = models.TextField(
        max_length=2000, blank=True, verbose_name=_("resolution note")
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return _("Report %(report)s on room %(room)s") % {"report": self.pk, "room": self.room_id}


class AnnouncementKind(models.TextChoices):
    """What `rooms.signals` tells the host site about (the `kind` argument of each signal)."""

    ROOM_INVITATION = "room_invitation", _("Invited to a room")
    ROOM_LIVE = "room_live", _("A room went live")
    ROOM_REMINDER = "room_reminder", _("A room starts soon")
    HOST_REMINDER = "host_reminder", _("Your room starts soon")


class Announcement(models.Model):
    """A fan-out that has been done: one room, kind and occurrence, told to its audience.

    Claiming this row (insert, unique) is how one task out of several running at once wins the
    right to announce to a whole audience; it commits together with whatever the signal's
    receivers wrote, so a task that dies half-way leaves no claim and the sweep announces again.
    `occurrence` tells apart announcements that may rightly come again (a reminder for a start
    time that was moved).
    """

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="+", verbose_name=_("room")
    )
    kind = models.CharField(max_length=20, choices=AnnouncementKind.choices, verbose_name=_("kind"))
    occurrence = models.CharField(max_length=40, blank=True, verbose_name=_("occurrence"))
    recipients = models.PositiveIntegerField(default=0, verbose_name=_("recipients"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        constraints = [
            models.UniqueConstraint(
                fields=["room", "kind", "occurrence"], name="rooms_announce_once"
            )
        ]

    def __str__(self) -> str:
        return _("%(kind)s of room %(room)s") % {
            "kind": self.get_kind_display(),
            "room": self.room_id,
        }
