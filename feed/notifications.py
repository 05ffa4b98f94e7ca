"""What a notification looks like to its recipient: the same shape in the API, the page header
and the live push over the feed socket (`{"type": "notification", ...}`)."""

from __future__ import annotations

from typing import Annotated, Literal

from django.utils.translation import gettext as _
from pydantic import Field
from typing_extensions import TypedDict

from feed.models import Notification, NotificationKind
from rooms import links
from rooms.frames import register_push_frame


class NotificationRoom(TypedDict):
    token: str
    title: str
    link: str
    state: str
    scheduled_start: str | None


class NotificationPublic(TypedDict):
    id: int
    kind: str
    text: str
    room: NotificationRoom
    created_at: str
    read: bool


@register_push_frame
class NotificationFrame(TypedDict):
    """The site's own frame on the feed socket: a new notification for you
    (`static/js/notifications.js` updates the page header)."""

    type: Literal["notification"]
    notification: NotificationPublic
    unread_count: Annotated[int, Field(ge=0)]


@register_push_frame
class NotificationsReadFrame(TypedDict):
    """The site's own frame on the feed socket: notifications were marked read (on another
    page, say); the unread count now."""

    type: Literal["notifications.read"]
    unread_count: Annotated[int, Field(ge=0)]


def text_for(notification: Notification) -> str:
    room = notification.room
    host = room.host.name
    names = {"host": host, "title": room.title}
    # In the active language: the reader's on a page of theirs, the recipient's when pushed
    # (services._push_after_commit renders each one under rooms.i18n.override_for(recipient)).
    if notification.kind == NotificationKind.ROOM_INVITATION:
        return _("%(host)s invited you to “%(title)s”.") % names
    if notification.kind == NotificationKind.ROOM_LIVE:
        return _("%(host)s's room “%(title)s” is live. Join in!") % names
    if notification.kind == NotificationKind.HOST_REMINDER:
        return _("Your room “%(title)s” starts soon: people are waiting for you.") % names
    return _("“%(title)s” with %(host)s starts soon.") % names


def notification_public(notification: Notification) -> NotificationPublic:
    """Needs `room__host` loaded (select_related) to stay at one query per page."""
    room = notification.room
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "text": text_for(notification),
        "room": {
            "token": room.token,
            "title": room.title,
            "link": links.room_path(room.token),
            "state": room.state,
            "scheduled_start": room.scheduled_start.isoformat() if room.scheduled_start else None,
        },
        "created_at": notification.created_at.isoformat(),
        "read": notification.read_at is not None,
    }
