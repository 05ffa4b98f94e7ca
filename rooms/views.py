"""The room page behind a link (`<prefix>r/<token>/`): everything after the first render is
JavaScript talking to the REST API and the room socket (rooms/static/rooms/js/room/).

The templates extend settings.ROOMS_BASE_TEMPLATE (rooms/base.html describes the blocks) and use
nothing of the site's: every name, link and flag they show comes from here."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render, resolve_url
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie

from rooms import identity, links, selectors, services
from rooms.adapter import get_adapter
from rooms.errors import NotFound
from rooms.models import ReportReason
from rooms.serializers import RoomPublicSerializer
from rooms.users import signed_in

# The API's token shape (rooms/api.py): anything else names no room.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def base_template() -> str:
    """The template Rooms' pages extend (ROOMS_BASE_TEMPLATE)."""
    return str(settings.ROOMS_BASE_TEMPLATE)


@ensure_csrf_cookie  # the page's API calls (join, reports, host controls) send the CSRF token
def room_page(request: HttpRequest, token: str) -> HttpResponse:
    user = signed_in(request.user)
    try:
        if not _TOKEN.fullmatch(token):
            raise NotFound("room_not_found", _("This room doesn't exist."))
        room = selectors.room_by_token(token=token, user=user)
    except NotFound:
        # Same page for an unknown link and a room the viewer may not know about.
        context = {
            "base_template": base_template(),
            "signed_in": user is not None,
            "home_url": links.site_home(),
        }
        return render(request, "rooms/not_found.html", context, status=404)
    # Someone removed from this room (by account, guest cookie or device) is told so at once,
    # before the pre-join screen asks for a camera.
    banned = room.state != "ended" and services.is_banned(
        room=room, identity=identity.caller_for(request).identity
    )
    config: dict[str, Any] = {
        "refused": "banned" if banned else None,
        "room": dict(RoomPublicSerializer(room).data)
        | ({"ended_by": selectors.ended_by(room_id=room.pk)} if room.state == "ended" else {}),
        "viewer": {
            "signed_in": user is not None,
            "name": get_adapter().display_name(user) if user is not None else "",
            "avatar_url": get_adapter().avatar_url(user) if user is not None else "",
            "is_moderator": services.is_moderator(room=room, user=user),
        },
        # "I'll be there" before a scheduled room starts (signed-in people other than the host).
        "rsvp": selectors.rsvp_state(room=room, user=user)
        if user is not None and room.state == "scheduled" and room.host_id != user.pk
        else None,
        "report_reasons": [{"value": v, "label": str(label)} for v, label in ReportReason.choices],
        # The site's log-in page, back to this room afterwards (rooms only for signed-in people).
        "sign_in_url": f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.path})}",
        # The API calls send it (the site's CSRF cookie may have another name).
        "csrf_token": get_token(request),
        # Where the scripts talk to: the room's API resource (its actions are below it), the
        # room socket and the site's front page.
        "urls": {
            "api": links.room_api_path(room.token),
            "socket": links.socket_path(room.token),
            "home": links.site_home(),
        },
    }
    viewer_name = config["viewer"]["name"]
    context = {
        "base_template": base_template(),
        "room": room,
        "config": config,
        "sign_in_url": config["sign_in_url"],
        "viewer_initial": viewer_name[:1].upper() or "?",
    }
    return render(request, "rooms/room.html", context)
