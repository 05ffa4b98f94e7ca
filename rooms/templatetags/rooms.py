"""Template tags a host site puts in its own pages.

`{% load rooms %}{% rooms_strip %}` at the top of a feed: the rooms the signed-in person may
enter, live first (most people first), then upcoming (soonest first), as cards
(rooms/_strip.html, rooms/_room_card.html). Nothing for someone signed out. The queries are a
fixed number however many rooms and friends there are (`rooms.selectors.feed_rooms`). The strip
carries, for a page's scripts, where its live cards come from (json_script "rooms-strip-config":
`socket`, the feed socket's path; `feed`, GET rooms/feed/ to redraw after a dropped socket;
`rsvp`, `going` and `me` for the "I'll be there" button on upcoming cards).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone

from rooms import links
from rooms.adapter import get_adapter
from rooms.selectors import feed_rooms, rsvp_tokens
from rooms.users import User, signed_in

register = template.Library()

# Of each of live and upcoming.
STRIP_LIMIT = 20


@register.inclusion_tag("rooms/_strip.html", takes_context=True)
def rooms_strip(context: template.Context, limit: int = STRIP_LIMIT) -> dict[str, Any]:
    request = context.get("request")
    user = signed_in(getattr(request, "user", None) or context.get("user"))
    if user is None:
        return {"signed_in": False}
    live, upcoming = feed_rooms(user=user, now=timezone.now(), limit=limit)
    going = rsvp_tokens(user=user, tokens=[room.token for room in upcoming])
    config = {
        "socket": links.feed_socket_path(),
        "feed": reverse("rooms:api-rooms-feed"),
        # "I'll be there" on upcoming cards: the RSVP API (TOKEN replaced by the room's), the
        # rooms this person said yes to, and who they are (a host does not RSVP to their own).
        "rsvp": reverse("rooms:api-room-rsvp", kwargs={"token": "TOKEN"}),
        "going": going,
        "me": user.pk,
    }
    return {
        "signed_in": True,
        "live_rooms": live,
        "upcoming_rooms": upcoming,
        "strip_config": config,
        "going": set(going),
        "me": user.pk,
    }


@register.filter
def display_name(user: User) -> str:
    return get_adapter().display_name(user)
