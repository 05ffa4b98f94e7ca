"""The rooms REST API: one small view per operation.

Each view validates its input with a serializer, calls a selector or a service, and renders
the result. Every rule lives in rooms/services/; DomainErrors become the standard error
shape (rooms/errors.py). Rooms are addressed by their link token only, and every token goes
through `selectors.room_by_token`, so an unknown link and a room the caller may not know
about (a block either way with the host) give the same 404 before anything else is decided.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms import openapi, pagination, selectors, services, socket_auth, turn
from rooms import serializers as s
from rooms.errors import Forbidden, NotFound, api_exception_handler, error_body
from rooms.identity import Caller, caller_for, remember
from rooms.models import Participant, ParticipantState, Room
from rooms.parsers import SafeJSONParser
from rooms.users import User, signed_in

_ok = openapi.ok
_X = openapi

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Of each of live and upcoming; the same as the feed page shows.
FEED_ROOMS_LIMIT = 20


# The base of every rooms API view. Parsing, rendering and errors are Rooms' own, whatever the
# site's REST_FRAMEWORK says, so the API answers in its documented JSON shape on any site;
# authentication comes from ROOMS_API_AUTHENTICATION_CLASSES. Each view names its permission
# classes; one that did not would still want a signed-in caller, not the site's default.
# (Comments, not a docstring: the schema would show a docstring as the description of every
# view that has none of its own.)
class _Api(APIView):
    parser_classes = [SafeJSONParser]
    renderer_classes = [JSONRenderer]
    permission_classes = [IsAuthenticated]

    def get_authenticators(self) -> list[BaseAuthentication]:
        # Read per request, so that a test (or a site) may change the setting at run time.
        return [cls() for cls in _imported(tuple(settings.ROOMS_API_AUTHENTICATION_CLASSES))]

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return api_exception_handler


@functools.cache
def _imported(paths: tuple[str, ...]) -> tuple[type[BaseAuthentication], ...]:
    return tuple(import_string(path) for path in paths)


@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    """Any path under the API's rooms/ that no route takes, whatever the method."""
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


# The codes a bare status stands for, for `_errors(401, 403)` (the form before error codes were
# listed per operation): the common ones of rooms/openapi.py.
_BARE_STATUS_CODES = {403: ["forbidden"], 404: ["not_found"], 410: ["room_ended"]}


def _errors(codes: dict[int, list[str]] | int, *statuses: int, **how: Any) -> dict[int, Any]:
    if isinstance(codes, int):
        bare = {
            status: _BARE_STATUS_CODES[status]
            for status in (codes, *statuses)
            if status in _BARE_STATUS_CODES
        }
        return openapi.errors(bare, **how)
    return openapi.errors(codes, **how)


_NF = "room_not_found"
# The codes of a refused join (rooms/policy.py's reasons; rooms/services/admission.py's codes).
JOIN_REFUSALS = [
    "banned",
    "suspended",
    "sign_in_required",
    "password_required",
    "wrong_password",
    "locked",
    "host_away",
    "room_full",
    "lobby_full",
]
_ROOM_SETTINGS = [
    "invalid_capacity",
    "start_needs_timezone",
    "start_in_past",
    "start_too_far",
    "invalid_audience",
    "password_too_long",
    "password_too_short",
]
_INVITES = ["cannot_invite_host", "not_a_friend", "no_users", "too_many_users"]


def _TEXT(*fields: str) -> list[str]:
    """The codes of rooms/services' text checks for these fields."""
    return [code for field in fields for code in (f"{field}_required", f"{field}_too_long")]


def _validated(
    serializer_class: type[serializers.Serializer], data: Any, **context: Any
) -> dict[str, Any]:
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _user(request: Request) -> User:
    """The signed-in account; the view's IsAuthenticated permission has already run."""
    user = signed_in(request.user)
    if user is None:
        raise NotAuthenticated()
    return user


def _optional_user(request: Request) -> User | None:
    return signed_in(request.user)


def _room(request: Request, token: str) -> Room:
    if not _TOKEN.fullmatch(token):
        # Same body as the selector's: a malformed link tells nothing more than an unknown one.
        raise NotFound("room_not_found", _("This room doesn't exist."))
    return selectors.room_by_token(token=token, user=_optional_user(request))


def _path_id(value: int) -> int:
    # URL ids beyond 64 bits would overflow the database driver; they name nothing anyway.
    if not 1 <= value <= s.MAX_ID:
        raise NotFound()
    return value


def _require_moderator(room: Room, user: User | None) -> None:
    if not services.is_moderator(room=room, user=user):
        raise Forbidden("not_a_host", _("Only the host or a co-host can do that."))


_OLDEST_FIRST = ("created_at", "pk")
RoomPage = pagination.page_serializer("RoomPage", s.RoomDetailSerializer(many=True))
MemberPage = pagination.page_serializer("RoomMemberPage", s.RoomMemberSerializer(many=True))
BanPage = pagination.page_serializer("RoomBanPage", s.RoomBanSerializer(many=True))


def _page(
    request: Request,
    view: APIView,
    queryset: Any,
    ordering: tuple[str, ...],
    serializer: type[serializers.Serializer],
) -> dict[str, Any]:
    return pagination.page(
        request,
        view,
        queryset,
        ordering=ordering,
        render=lambda rows: serializer(rows, many=True).data,
    )


def _participant_data(participant: Participant) -> dict[str, Any]:
    return dict(s.RoomParticipantSerializer(participant).data)


# --- rooms ------------------------------------------------------------------------------------


class RoomListCreateApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="rooms_list",
        summary="Rooms I host or co-host",
        description="Newest first, a page at a time.",
        parameters=pagination.PARAMETERS,
        responses={
            **_ok(200, RoomPage, openapi.page_of(_X.ROOM_DETAIL, path="/api/v1/rooms/")),
            **_errors({404: ["not_found"]}),
        },
    )
    def get(self, request: Request) -> Response:
        rooms = (
            selectors.hosted_rooms(user=_user(request))
            .select_related("host")
            .annotate(
                participant_count=Count(
                    "participants",
                    filter=Q(participants__state=ParticipantState.ADMITTED),
                    distinct=True,
                )
            )
        )
        return Response(_page(request, self, rooms, ("-created_at", "-pk"), s.RoomDetailSerializer))

    @extend_schema(
        summary="Create a room",
        description="You become its host. Without `scheduled_start` the room is open at once; "
        "invitees (friends of yours) are told.",
        examples=[
            OpenApiExample(
                "Example",
                value={
                    "title": "Quiz night",
                    "scheduled_start": "2030-01-01T18:00:00+02:00",
                    "audience": "friends",
                    "capacity": 12,
                    "waiting_room": True,
                },
                request_only=True,
            )
        ],
        request=s.RoomCreateInputSerializer,
        responses={
            **_ok(201, s.RoomDetailSerializer, {**_X.ROOM_DETAIL, "participant_count": 0}),
            **_errors(
                {
                    400: [*_TEXT("title", "description"), *_ROOM_SETTINGS, *_INVITES],
                    403: ["suspended"],
                    404: ["user_not_found"],
                    429: ["rate_limited"],
                },
                method="POST",
                body=True,
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.RoomCreateInputSerializer, request.data)
        room = services.room_create(host=_user(request), **data)
        return Response(s.RoomDetailSerializer(room).data, status=status.HTTP_201_CREATED)


class RoomFeedApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Rooms I may enter: live first, then upcoming",
        description="What a feed shows on top: live rooms (most people first) and scheduled "
        f"rooms (soonest first), at most {FEED_ROOMS_LIMIT} of each. Live changes come over "
        "the feed socket.",
        responses={**_ok(200, s.RoomFeedSerializer, _X.ROOM_FEED), **_errors({})},
    )
    def get(self, request: Request) -> Response:
        live, upcoming = selectors.feed_rooms(
            user=_user(request), now=timezone.now(), limit=FEED_ROOMS_LIMIT
        )
        return Response(s.RoomFeedSerializer({"live": live, "upcoming": upcoming}).data)


class RoomDetailApi(_Api):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        summary="A room behind its link",
        description="Anyone holding the link, guests included, sees the public summary; "
        "the host and co-hosts also see every setting.",
        responses={
            **_ok(
                200,
                s.RoomViewSerializer,
                _X.ROOM_DETAIL,
                _X.ROOM_PUBLIC,
                names=["200 As a host or co-host sees it", "200 As anyone else sees it"],
            ),
            **_errors({404: [_NF]}, signed_in=False),
        },
    )
    def get(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        if services.is_moderator(room=room, user=_optional_user(request)):
            return Response(s.RoomDetailSerializer(room).data)
        return Response(s.RoomPublicSerializer(room).data)

    @extend_schema(
        summary="Change a room's settings",
        description="Hosts and co-hosts. Send only the fields to change; an empty `password` "
        "removes it; a room that has started cannot be rescheduled.",
        examples=[
            OpenApiExample(
                "Example",
                value={"title": "Quiz night (round 2)", "locked": True},
                request_only=True,
            )
        ],
        request=s.RoomUpdateInputSerializer,
        responses={
            **_ok(
                200,
                s.RoomDetailSerializer,
                {**_X.ROOM_DETAIL, "title": "Quiz night (round 2)", "locked": True, "version": 6},
            ),
            **_errors(
                {
                    400: ["unknown_field", *_TEXT("title", "description"), *_ROOM_SETTINGS],
                    403: ["not_a_host"],
                    404: [_NF],
                    409: ["already_started"],
                    410: ["room_ended"],
                },
                method="PATCH",
                body=True,
            ),
        },
    )
    def patch(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        changes = _validated(s.RoomUpdateInputSerializer, request.data)
        room = services.room_update(room=room, actor=_user(request), **changes)
        return Response(s.RoomDetailSerializer(room).data)


def _state_schema(
    summary: str, description: str, example: dict[str, Any], *, ended: bool = True
) -> Any:
    codes: dict[int, list[str]] = {403: ["not_a_host"], 404: [_NF]}
    if ended:
        codes[410] = ["room_ended"]
    return extend_schema(
        summary=summary,
        description=description,
        request=None,
        responses={**_ok(200, s.RoomDetailSerializer, example), **_errors(codes, method="POST")},
    )


class RoomLockApi(_Api):
    permission_classes = [IsAuthenticated]

    @_state_schema(
        "Lock a room: nobody new gets in",
        "Hosts and co-hosts. People inside stay (and may come back within the resume grace); "
        "everyone hears `room.locked`.",
        {**_X.ROOM_DETAIL, "locked": True, "version": 6},
    )
    def post(self, request: Request, token: str) -> Response:
        room = services.room_set_locked(
            room=_room(request, token), actor=_user(request), locked=True
        )
        return Response(s.RoomDetailSerializer(room).data)


class RoomUnlockApi(_Api):
    permission_classes = [IsAuthenticated]

    @_state_schema(
        "Unlock a room",
        "Hosts and co-hosts; everyone hears `room.unlocked`.",
        {**_X.ROOM_DETAIL, "version": 7},
    )
    def post(self, request: Request, token: str) -> Response:
        room = services.room_set_locked(
            room=_room(request, token), actor=_user(request), locked=False
        )
        return Response(s.RoomDetailSerializer(room).data)


class RoomEndApi(_Api):
    permission_classes = [IsAuthenticated]

    @_state_schema(
        "End a room for everyone",
        "Hosts and co-hosts. Every socket hears `room.ended` and closes with 4005; an ended "
        "room never opens again. Ending it twice answers the ended room.",
        _X.ENDED_ROOM,
        ended=False,
    )
    def post(self, request: Request, token: str) -> Response:
        room = services.room_end(room=_room(request, token), actor=_user(request))
        return Response(s.RoomDetailSerializer(room).data)


# --- joining and leaving ----------------------------------------------------------------------


class RoomJoinApi(_Api):
    permission_classes = [AllowAny]
    caller: Caller | None = None

    @extend_schema(
        summary="Ask to join a room",
        examples=[
            OpenApiExample(
                "Example",
                value={"display_name": "Gina", "password": "open sesame!"},
                request_only=True,
            )
        ],
        description="Signed-in callers join as themselves, anyone else as a guest. Guests get "
        "a signed `rooms_guest` cookie and everyone a `rooms_device` cookie: send them back "
        "(keep a cookie jar) to stay the same person.",
        request=s.RoomJoinInputSerializer,
        responses={
            **_ok(
                200,
                s.RoomJoinOutputSerializer,
                _X.JOINED,
                _X.IN_LOBBY,
                names=["200 Let in", "200 Waiting in the lobby"],
            ),
            **_errors(
                {
                    400: ["identity_required", "password_too_long", *_TEXT("display_name")],
                    403: JOIN_REFUSALS,
                    404: [_NF],
                    410: ["room_ended"],
                    429: ["too_many_attempts", "too_many_joins"],
                },
                method="POST",
                body=True,
                signed_in=False,
            ),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        guest = _optional_user(request) is None
        data = _validated(s.RoomJoinInputSerializer, request.data, guest=guest)
        self.caller = caller_for(request, display_name=data["display_name"], issue=True)
        result = services.room_join(
            token=room.token, identity=self.caller.identity, password=data["password"]
        )
        body = {
            "participant": _participant_data(result.participant),
            "decision": {
                "outcome": result.decision.outcome.value,
                "reason": result.decision.reason.value,
            },
            "ticket": result.ticket,
            "ice_servers": (
                turn.ice_servers(participant_id=result.participant.pk)
                if result.participant.state == ParticipantState.ADMITTED
                else []
            ),
        }
        return Response(s.RoomJoinOutputSerializer(body).data)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Refusals keep the cookies too: a ban or the password counter must see the same
        # person next time.
        if self.caller is not None:
            remember(response, self.caller)
        return response


class RoomLeaveApi(_Api):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Leave a room (your own visit)",
        description="Ends your visit (the account or guest this request speaks for); the seat is "
        "freed at once.",
        request=None,
        responses={
            **_ok(200, s.RoomParticipantSerializer, {**_X.PARTICIPANT, "state": "left"}),
            **_errors({404: [_NF, "not_in_room"]}, method="POST", signed_in=False),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        participant = services.room_leave(room=room, identity=caller_for(request).identity)
        return Response(_participant_data(participant))


# --- roster, lobby, removal -------------------------------------------------------------------


class RoomParticipantsApi(_Api):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Who is in the room",
        description="For admitted participants and moderators; moderators also get the lobby.",
        responses={
            **_ok(200, s.RoomRosterSerializer, _X.ROSTER),
            **_errors({403: ["not_in_room"], 404: [_NF]}, signed_in=False),
        },
    )
    def get(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        identity = caller_for(request).identity
        moderator = services.is_moderator(room=room, user=identity.user)
        if not moderator:
            try:
                visit = services.participant_for(room=room, identity=identity)
            except NotFound:
                visit = None
            # Lobby members see nothing of the room until they are admitted.
            if visit is None or visit.state != ParticipantState.ADMITTED:
                raise Forbidden("not_in_room", _("Only people in the room can see who is here."))
        body: dict[str, Any] = {"participants": list(selectors.roster(room=room))}
        if moderator:
            body["lobby"] = list(selectors.lobby(room=room))
        return Response(s.RoomRosterSerializer(body).data)


def _lobby_schema(
    summary: str, description: str, codes: dict[int, list[str]], example: dict[str, Any]
) -> Any:
    return extend_schema(
        summary=summary,
        description=description + ' Send exactly one of `participant_ids` and `"all": true`; '
        "both or neither is a 400 (`invalid`).",
        request=s.RoomLobbyDecisionInputSerializer,
        responses={
            **_ok(200, s.RoomParticipantListSerializer, {"participants": [example]}),
            **_errors(codes, method="POST", body=True),
        },
        examples=[
            OpenApiExample("Some", value={"participant_ids": [42, 43]}, request_only=True),
            OpenApiExample("Everyone waiting", value={"all": True}, request_only=True),
        ],
    )


class RoomLobbyAdmitApi(_Api):
    permission_classes = [IsAuthenticated]

    @_lobby_schema(
        "Let people in from the lobby",
        "Hosts and co-hosts. Naming more people than there are free seats is a 409 "
        "(`room_full`); `all` lets in the longest waiting until the room is full.",
        {403: ["not_a_host"], 404: [_NF, "not_in_lobby"], 409: ["room_full"], 410: ["room_ended"]},
        {
            **_X.GUEST_IN_LOBBY,
            "state": "admitted",
            "lobby_reason": "",
            "joined_at": "2030-01-01T16:30:00Z",
        },
    )
    def post(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        data = _validated(s.RoomLobbyDecisionInputSerializer, request.data)
        admitted = services.lobby_admit(
            room=room, actor=_user(request), participant_ids=data.get("participant_ids")
        )
        return Response(s.RoomParticipantListSerializer({"participants": admitted}).data)


class RoomLobbyDenyApi(_Api):
    permission_classes = [IsAuthenticated]

    @_lobby_schema(
        "Turn people away from the lobby",
        "Hosts and co-hosts. Those turned away hear `lobby.denied` on their socket.",
        {403: ["not_a_host"], 404: [_NF, "not_in_lobby"]},
        {**_X.GUEST_IN_LOBBY, "state": "denied"},
    )
    def post(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        data = _validated(s.RoomLobbyDecisionInputSerializer, request.data)
        denied = services.lobby_deny(
            room=room, actor=_user(request), participant_ids=data.get("participant_ids")
        )
        return Response(s.RoomParticipantListSerializer({"participants": denied}).data)


class RoomParticipantRemoveApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Remove someone; they stay banned until the ban is lifted",
        description="Hosts and co-hosts; only the host removes a co-host, nobody removes the "
        "host. Their socket closes with 4004.",
        examples=[
            OpenApiExample("Example", value={"reason": "Spam in the chat"}, request_only=True)
        ],
        request=s.RoomRemoveInputSerializer,
        responses={
            **_ok(200, s.RoomBanSerializer, _X.BAN),
            **_errors(
                {
                    400: ["cannot_remove_self", *_TEXT("reason")],
                    403: ["not_a_host", "cannot_remove_host", "only_host_removes_cohost"],
                    404: [_NF, "participant_not_found", "not_found"],
                    410: ["room_ended"],
                },
                method="POST",
                body=True,
            ),
        },
    )
    def post(self, request: Request, token: str, participant_id: int) -> Response:
        room = _room(request, token)
        data = _validated(s.RoomRemoveInputSerializer, request.data)
        ban = services.participant_remove(
            room=room,
            actor=_user(request),
            participant_id=_path_id(participant_id),
            reason=data["reason"],
        )
        return Response(s.RoomBanSerializer(ban).data)


class RoomParticipantMuteApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Mute someone (their audio stops being forwarded; only they can unmute)",
        description="Hosts and co-hosts; everyone hears the change as `room.participant_updated`.",
        request=None,
        responses={
            **_ok(200, s.RoomParticipantSerializer, _X.PARTICIPANT),
            **_errors(
                {
                    403: ["not_a_host"],
                    404: [_NF, "participant_not_found", "not_found"],
                    410: ["room_ended"],
                },
                method="POST",
            ),
        },
    )
    def post(self, request: Request, token: str, participant_id: int) -> Response:
        room = _room(request, token)
        participant = services.participant_mute(
            room=room, actor=_user(request), participant_id=_path_id(participant_id)
        )
        return Response(_participant_data(participant))


class RoomParticipantAskUnmuteApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Ask someone muted to unmute",
        description="Hosts and co-hosts; the person hears `unmute.requested` and decides.",
        request=None,
        responses={
            **_ok(200, s.RoomParticipantSerializer, _X.PARTICIPANT),
            **_errors(
                {
                    403: ["not_a_host"],
                    404: [_NF, "participant_not_found", "not_found"],
                    409: ["not_muted"],
                    410: ["room_ended"],
                },
                method="POST",
            ),
        },
    )
    def post(self, request: Request, token: str, participant_id: int) -> Response:
        room = _room(request, token)
        participant = services.participant_ask_unmute(
            room=room, actor=_user(request), participant_id=_path_id(participant_id)
        )
        return Response(_participant_data(participant))


class RoomMuteAllApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Mute everyone but the hosts and co-hosts",
        description="Returns those it muted.",
        request=None,
        responses={
            **_ok(200, s.RoomParticipantListSerializer, {"participants": [_X.PARTICIPANT]}),
            **_errors({403: ["not_a_host"], 404: [_NF], 410: ["room_ended"]}, method="POST"),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        muted = services.participant_mute_all(room=room, actor=_user(request))
        return Response({"participants": [_participant_data(p) for p in muted]})


# --- co-hosts, invitations, bans --------------------------------------------------------------


class RoomCoHostsApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="rooms_cohosts_list",
        summary="Co-hosts of a room",
        description="For the host and co-hosts; oldest first, a page at a time.",
        parameters=pagination.PARAMETERS,
        responses={
            **_ok(
                200,
                MemberPage,
                _X.page_of(_X.MEMBER, path=f"/api/v1/rooms/{_X.ROOM_TOKEN}/cohosts/"),
            ),
            **_errors({403: ["not_a_host"], 404: [_NF, "not_found"]}),
        },
    )
    def get(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        _require_moderator(room, _user(request))
        cohosts = selectors.cohosts(room=room)
        return Response(_page(request, self, cohosts, _OLDEST_FIRST, s.RoomMemberSerializer))

    @extend_schema(
        summary="Name a co-host (host only)",
        description="The person must have an account; co-hosts get every host control but naming "
        "co-hosts and ending the ban of a co-host.",
        examples=[OpenApiExample("Example", value={"user_id": 42}, request_only=True)],
        request=s.RoomCoHostInputSerializer,
        responses={
            **_ok(201, s.RoomMemberSerializer, {**_X.MEMBER, "created_at": "2030-01-01T16:25:00Z"}),
            **_errors(
                {
                    400: ["already_host"],
                    403: ["not_a_host", "only_host"],
                    404: [_NF, "user_not_found"],
                    410: ["room_ended"],
                },
                method="POST",
                body=True,
            ),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        user = _user(request)
        data = _validated(s.RoomCoHostInputSerializer, request.data)
        # Refuse outsiders before looking anyone up, so they learn nothing about accounts.
        _require_moderator(room, user)
        target = selectors.active_account(user_id=data["user_id"])
        cohost = services.cohost_add(room=room, actor=user, user=target)
        return Response(s.RoomMemberSerializer(cohost).data, status=status.HTTP_201_CREATED)


class RoomCoHostRemoveApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Take co-host rights away (host only)",
        description="They stay in the room as a participant.",
        responses={
            204: None,
            **_errors(
                {403: ["only_host"], 404: [_NF, "cohost_not_found", "not_found"]}, method="DELETE"
            ),
        },
    )
    def delete(self, request: Request, token: str, user_id: int) -> Response:
        room = _room(request, token)
        services.cohost_remove(room=room, actor=_user(request), user_id=_path_id(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomInvitationsApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="rooms_invitations_list",
        summary="People invited to a room",
        description="For the host and co-hosts; oldest first, a page at a time.",
        parameters=pagination.PARAMETERS,
        responses={
            **_ok(
                200,
                MemberPage,
                _X.page_of(_X.MEMBER, path=f"/api/v1/rooms/{_X.ROOM_TOKEN}/invitations/"),
            ),
            **_errors({403: ["not_a_host"], 404: [_NF, "not_found"]}),
        },
    )
    def get(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        _require_moderator(room, _user(request))
        invitations = selectors.invitations(room=room)
        return Response(_page(request, self, invitations, _OLDEST_FIRST, s.RoomMemberSerializer))

    @extend_schema(
        summary="Invite people",
        examples=[OpenApiExample("Example", value={"user_ids": [42, 43]}, request_only=True)],
        description="Returns the new invitations; people already invited are skipped.",
        request=s.RoomInviteInputSerializer,
        responses={
            **_ok(201, s.RoomMemberSerializer(many=True), _X.MEMBER),
            **_errors(
                {
                    400: _INVITES,
                    403: ["not_a_host"],
                    404: [_NF, "user_not_found"],
                    410: ["room_ended"],
                    429: ["rate_limited"],
                },
                method="POST",
                body=True,
            ),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        data = _validated(s.RoomInviteInputSerializer, request.data)
        created = services.invitation_add(
            room=room, actor=_user(request), user_ids=data["user_ids"]
        )
        invitations = selectors.invitations(room=room).filter(pk__in=[i.pk for i in created])
        return Response(
            s.RoomMemberSerializer(invitations, many=True).data, status=status.HTTP_201_CREATED
        )


class RoomInvitationRemoveApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Withdraw an invitation",
        description="For the host and co-hosts; the person no longer sees the room in an invite-"
        "only audience.",
        responses={
            204: None,
            **_errors(
                {403: ["not_a_host"], 404: [_NF, "invitation_not_found", "not_found"]},
                method="DELETE",
            ),
        },
    )
    def delete(self, request: Request, token: str, user_id: int) -> Response:
        room = _room(request, token)
        services.invitation_remove(room=room, actor=_user(request), user_id=_path_id(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomBansApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="rooms_bans_list",
        summary="People banned from a room",
        description="For the host and co-hosts; newest first, a page at a time. Lift a ban "
        "with DELETE bans/<id>/.",
        parameters=pagination.PARAMETERS,
        responses={
            **_ok(200, BanPage, _X.page_of(_X.BAN, path=f"/api/v1/rooms/{_X.ROOM_TOKEN}/bans/")),
            **_errors({403: ["not_a_host"], 404: [_NF, "not_found"]}),
        },
    )
    def get(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        _require_moderator(room, _user(request))
        bans = selectors.bans(room=room)
        return Response(_page(request, self, bans, ("-created_at", "-pk"), s.RoomBanSerializer))


class RoomBanLiftApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Lift a ban",
        description="For the host and co-hosts; the person may join again.",
        responses={
            204: None,
            **_errors(
                {403: ["not_a_host"], 404: [_NF, "ban_not_found", "not_found"]}, method="DELETE"
            ),
        },
    )
    def delete(self, request: Request, token: str, ban_id: int) -> Response:
        room = _room(request, token)
        services.ban_lift(room=room, actor=_user(request), ban_id=_path_id(ban_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- reports ----------------------------------------------------------------------------------


class RoomReportsApi(_Api):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Report the room or someone in it",
        examples=[
            OpenApiExample(
                "Example",
                value={"reason": "harassment", "details": "Shouting at people", "target_id": 42},
                request_only=True,
            )
        ],
        description="For admitted participants, signed in or guests.",
        request=s.RoomReportInputSerializer,
        responses={
            **_ok(201, s.RoomReportOutputSerializer, _X.REPORT),
            **_errors(
                {
                    400: ["invalid_reason", "cannot_report_self", *_TEXT("details")],
                    403: ["not_in_room"],
                    404: [_NF, "participant_not_found"],
                    429: ["rate_limited"],
                },
                method="POST",
                body=True,
                signed_in=False,
            ),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        room = _room(request, token)
        data = _validated(s.RoomReportInputSerializer, request.data)
        report = services.report_create(room=room, identity=caller_for(request).identity, **data)
        return Response(s.RoomReportOutputSerializer(report).data, status=status.HTTP_201_CREATED)


# --- "I'll be there" --------------------------------------------------------------------------


class RsvpOutput(serializers.Serializer):
    going = serializers.BooleanField()
    count = serializers.IntegerField(help_text="How many people said they will be there.")


class RoomRsvpApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary='Say "I\'ll be there" to a scheduled room',
        description="For people who may see the room (its feed audience); the reminder before "
        "the start then reaches you. Anyone else gets the same 404 as an unknown link.",
        request=None,
        responses={
            **_ok(200, RsvpOutput, {"going": True, "count": 5}),
            **_errors(
                {400: ["host_rsvp"], 404: [_NF], 409: ["not_scheduled"], 410: ["room_ended"]},
                method="POST",
            ),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        state = services.rsvp_set(room=_room(request, token), user=_user(request), going=True)
        return Response(RsvpOutput(state).data)

    @extend_schema(
        summary='Take back "I\'ll be there"',
        description="Idempotent: answers the current state either way.",
        request=None,
        responses={
            **_ok(200, RsvpOutput, {"going": False, "count": 4}),
            **_errors({404: [_NF]}, method="DELETE"),
        },
    )
    def delete(self, request: Request, token: str) -> Response:
        state = services.rsvp_set(room=_room(request, token), user=_user(request), going=False)
        return Response(RsvpOutput(state).data)


# --- sockets ----------------------------------------------------------------------------------


class SocketTicketOutput(serializers.Serializer):
    ticket = serializers.CharField(
        help_text="Single-use: open a socket with `?auth=<ticket>` (the feed socket, or the "
        "room socket's `?resume=`)."
    )
    expires_in = serializers.IntegerField(help_text="Seconds the ticket stays valid.")


class SocketTicketApi(_Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="A ticket that signs your account in on a socket",
        description="For clients that cannot send `Authorization` or a session cookie with a "
        "WebSocket handshake (browsers using a token, for one). The ticket names your account "
        "on `ws/feed/?auth=<ticket>` (live room cards and the site's notifications) and on the "
        "room socket's resume (`ws/rooms/<token>/?resume=<resume_token>&auth=<ticket>`); it "
        "works once, within `expires_in` seconds. The socket contract is at "
        "`api/schema/socket/`.",
        request=None,
        responses={
            **_ok(201, SocketTicketOutput, {"ticket": "st_2f9c7b1e8a4d6035", "expires_in": 60}),
            **_errors({}, method="POST"),
        },
    )
    def post(self, request: Request) -> Response:
        ticket = socket_auth.issue_ticket(_user(request))
        return Response(
            {"ticket": ticket, "expires_in": socket_auth.TICKET_SECONDS},
            status=status.HTTP_201_CREATED,
        )
