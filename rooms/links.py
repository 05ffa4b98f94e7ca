"""Rooms' links, wherever the site mounted its URLs.

A site includes `rooms.urls` under any prefix ("" on the reference site, "video/" elsewhere) and
mounts `rooms.routing.websocket_urlpatterns` under the same prefix in its ASGI router (README,
"Add Rooms to your site"). Links are reversed; the socket's path, which Django's URL resolver
does not know, is the page's prefix followed by the socket route.
"""

from __future__ import annotations

from django.urls import get_script_prefix, reverse

from rooms.models import Room


def room_path(token: str) -> str:
    """The room page: `<prefix>r/<token>/`."""
    return reverse("rooms:room", kwargs={"token": token})


def room_link(room: Room) -> str:
    return room_path(room.token)


def room_api_path(token: str) -> str:
    """The room's API resource; its actions are below it (`join/`, `leave/`, `lobby/admit/`...)."""
    return reverse("rooms:api-room", kwargs={"token": token})


def rooms_prefix() -> str:
    """Where the site mounted `rooms.urls`, with its leading and trailing slash ("/video/")."""
    probe = "probe"
    return room_path(probe).removesuffix(f"r/{probe}/")


def socket_path(token: str) -> str:
    """The room socket (`rooms.routing`), mounted under the same prefix as the pages."""
    return f"{rooms_prefix()}ws/rooms/{token}/"


def feed_socket_path() -> str:
    """The feed socket (`rooms.routing`): live room cards for the signed-in person."""
    return f"{rooms_prefix()}ws/feed/"


def site_home() -> str:
    """The site's front page (the root the site is served from), for "back to the site" links."""
    return get_script_prefix()
