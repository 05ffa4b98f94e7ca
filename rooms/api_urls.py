"""Rooms' REST API routes. rooms/urls.py mounts them twice: under `api/v1/` (the versioned
contract, the paths the OpenAPI schema lists) and under `api/` (the same views, unnamed and
left out of the schema: the paths clients used before versioning)."""

from collections.abc import Iterable

from django.urls import URLPattern, URLResolver, path, re_path
from django.views import View

from rooms import api, socket_schema

urlpatterns: list[URLPattern | URLResolver] = [
    path("rooms/", api.RoomListCreateApi.as_view(), name="api-rooms"),
    # Before rooms/<token>/: "feed" is never a token (new_link_token makes 32 characters).
    path("rooms/feed/", api.RoomFeedApi.as_view(), name="api-rooms-feed"),
    path("rooms/<str:token>/", api.RoomDetailApi.as_view(), name="api-room"),
    path("rooms/<str:token>/join/", api.RoomJoinApi.as_view(), name="api-room-join"),
    path("rooms/<str:token>/leave/", api.RoomLeaveApi.as_view(), name="api-room-leave"),
    path(
        "rooms/<str:token>/participants/",
        api.RoomParticipantsApi.as_view(),
        name="api-room-participants",
    ),
    path(
        "rooms/<str:token>/participants/<int:participant_id>/remove/",
        api.RoomParticipantRemoveApi.as_view(),
        name="api-room-participant-remove",
    ),
    path(
        "rooms/<str:token>/participants/<int:participant_id>/mute/",
        api.RoomParticipantMuteApi.as_view(),
        name="api-room-participant-mute",
    ),
    path(
        "rooms/<str:token>/participants/<int:participant_id>/ask-unmute/",
        api.RoomParticipantAskUnmuteApi.as_view(),
        name="api-room-participant-ask-unmute",
    ),
    path("rooms/<str:token>/mute-all/", api.RoomMuteAllApi.as_view(), name="api-room-mute-all"),
    path(
        "rooms/<str:token>/lobby/admit/",
        api.RoomLobbyAdmitApi.as_view(),
        name="api-room-lobby-admit",
    ),
    path(
        "rooms/<str:token>/lobby/deny/", api.RoomLobbyDenyApi.as_view(), name="api-room-lobby-deny"
    ),
    path("rooms/<str:token>/lock/", api.RoomLockApi.as_view(), name="api-room-lock"),
    path("rooms/<str:token>/unlock/", api.RoomUnlockApi.as_view(), name="api-room-unlock"),
    path("rooms/<str:token>/end/", api.RoomEndApi.as_view(), name="api-room-end"),
    path("rooms/<str:token>/cohosts/", api.RoomCoHostsApi.as_view(), name="api-room-cohosts"),
    path(
        "rooms/<str:token>/cohosts/<int:user_id>/",
        api.RoomCoHostRemoveApi.as_view(),
        name="api-room-cohost-remove",
    ),
    path(
        "rooms/<str:token>/invitations/",
        api.RoomInvitationsApi.as_view(),
        name="api-room-invitations",
    ),
    path(
        "rooms/<str:token>/invitations/<int:user_id>/",
        api.RoomInvitationRemoveApi.as_view(),
        name="api-room-invitation-remove",
    ),
    path("rooms/<str:token>/bans/", api.RoomBansApi.as_view(), name="api-room-bans"),
    path(
        "rooms/<str:token>/bans/<int:ban_id>/",
        api.RoomBanLiftApi.as_view(),
        name="api-room-ban-lift",
    ),
    path("rooms/<str:token>/reports/", api.RoomReportsApi.as_view(), name="api-room-reports"),
    path("rooms/<str:token>/rsvp/", api.RoomRsvpApi.as_view(), name="api-room-rsvp"),
    path("sockets/ticket/", api.SocketTicketApi.as_view(), name="api-socket-ticket"),
    # The sockets' contract (AsyncAPI 3), next to the site's OpenAPI schema at api/schema/.
    path("schema/socket/", socket_schema.socket_schema_view, name="api-socket-schema"),
    # Last: anything else under rooms/ (an id the int converter can't take, such as bans/-1/,
    # or a path that was never there) is a 404 in the API's error shape, on any site.
    re_path(r"^rooms/", api.not_found),
]


def unlisted(patterns: Iterable[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    """The same routes for an alias prefix: unnamed (reverse() finds the versioned ones) and
    left out of the OpenAPI schema (a view class whose `schema` is None). A site can use it for
    its own API's unversioned paths too."""
    aliases: list[URLPattern | URLResolver] = []
    for pattern in patterns:
        view_class = getattr(getattr(pattern, "callback", None), "view_class", None)
        if isinstance(pattern, URLPattern) and isinstance(view_class, type):
            alias: type[View] = type(view_class.__name__, (view_class,), {"schema": None})
            alias.__module__ = view_class.__module__
            initkwargs = getattr(pattern.callback, "view_initkwargs", {})
            callback = alias.as_view(**initkwargs)
            aliases.append(URLPattern(pattern.pattern, callback, pattern.default_args))
        else:
            aliases.append(
                URLPattern(pattern.pattern, pattern.callback, pattern.default_args)
                if isinstance(pattern, URLPattern)
                else pattern
            )
    return aliases
