from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

POST_MAX = 5000


class Post(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="posts",
        verbose_name=_("author"),
    )
    body = models.TextField(max_length=POST_MAX, verbose_name=_("body"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        indexes = [models.Index(fields=["author", "-created_at"])]

    def __str__(self) -> str:
        return self.body[:50]


class NotificationKind(models.TextChoices):
    # The same values as rooms.models.AnnouncementKind, the `kind` that rooms.signals send.
    ROOM_INVITATION = "room_invitation", _("Invited to a room")
    ROOM_LIVE = "room_live", _("A room went live")
    ROOM_REMINDER = "room_reminder", _("A room starts soon")
    HOST_REMINDER = "host_reminder", _("Your room starts soon")


class Notification(models.Model):
    """One in-app notification for one person.

    Made by the receivers of `rooms.signals` (feed/receivers.py). `occurrence` tells apart
    notifications that may rightly come again for the same room and kind (a reminder for a start
    time that was moved). Rooms sends each signal once; the unique constraint makes sure anyway.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices, verbose_name=_("kind"))
    room = models.ForeignKey(
        "rooms.Room", on_delete=models.CASCADE, related_name="+", verbose_name=_("room")
    )
    occurrence = models.CharField(max_length=40, blank=True, verbose_name=_("occurrence"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "room", "kind", "occurrence"], name="notify_once"
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return _("%(kind)s for user %(user)s") % {
            "kind": self.get_kind_display(),
            "user": self.recipient_id,
        }
