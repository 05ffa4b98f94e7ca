"""The accounts REST API: one small view per operation.

Each view validates its input with a serializer, calls a selector or a service, and renders
the result with an output serializer. Rules (blocks, pending requests, self-requests) live in
accounts/services.py; DomainErrors become the standard error shape in config/errors.py.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import User
from config.parsers import SafeJSONParser
from rooms import pagination
from rooms.addresses import client_address
from rooms.openapi import errors, ok, page_of
from rooms.serializers import StrictCharField, StrictIntegerField

# Primary keys are 64-bit integers; anything larger can't name a row and would overflow the
# database driver, so it is refused as input instead of reaching the query.
MAX_ID = 2**63 - 1
USERNAME_MAX = 150
SEARCH_MAX = 50
PASSWORD_MAX = 4096


def current_user(request: Request) -> User:
    """The signed-in account; the default IsAuthenticated permission has already run."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- Serializers ------------------------------------------------------------------------------


class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField(source="name")


UserPage = pagination.page_serializer("UserPage", UserOutput(many=True))


def _users_page(request: Request, view: APIView, users: Any) -> dict[str, Any]:
    return pagination.page(
        request,
        view,
        users,
        ordering=("username",),
        render=lambda rows: UserOutput(rows, many=True).data,
    )


# Examples of the success bodies (rooms/openapi.py has the rooms' own).
ALICE = {"id": 7, "username": "alice", "display_name": "Alice"}
BOB = {"id": 8, "username": "bob", "display_name": "Bob"}
CHARLIE = {"id": 9, "username": "charlie", "display_name": "Charlie"}
EVE = {"id": 12, "username": "eve", "display_name": "Eve"}
OUTGOING = {"id": 21, "to_user": BOB, "created_at": "2029-12-18T12:00:00Z"}


class MeOutput(UserOutput):
    is_suspended = serializers.BooleanField()
    is_staff = serializers.BooleanField()


class UsernameInput(serializers.Serializer):
    username = StrictCharField(max_length=USERNAME_MAX)


class UserIdInput(serializers.Serializer):
    user_id = StrictIntegerField(min_value=1, max_value=MAX_ID)


class RequestIdInput(serializers.Serializer):
    request_id = StrictIntegerField(min_value=1, max_value=MAX_ID)


class UserSearchQuery(serializers.Serializer):
    q = serializers.CharField(min_length=1, max_length=SEARCH_MAX)


class IncomingRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    from_user = UserOutput()
    created_at = serializers.DateTimeField()


class OutgoingRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    to_user = UserOutput()
    created_at = serializers.DateTimeField()


class RequestsOutput(serializers.Serializer):
    incoming = IncomingRequestOutput(many=True)
    outgoing = OutgoingRequestOutput(many=True)


class SendRequestOutput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["pending", "friends"],
        help_text='"friends" when the other person had already asked you: you are now friends.',
    )
    request = OutgoingRequestOutput(allow_null=True)


# --- Token ----------------------------------------------------------------------------------


class TokenInput(AuthTokenSerializer):
    # Bounded so that a huge body is refused before it reaches the (slow) password hasher.
    username = StrictCharField(label="Username", max_length=USERNAME_MAX, write_only=True)
    password = StrictCharField(
        label="Password",
        max_length=PASSWORD_MAX,
        style={"input_type": "password"},
        trim_whitespace=False,
        write_only=True,
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The log-in form's limits, shared (services.user_authenticate); past them a 429 with
        # Retry-After (config.errors) and no password check.
        request = self.context["request"]
        user = services.user_authenticate(
            username=attrs["username"],
            password=attrs["password"],
            address=client_address(request),
            request=request,
        )
        if user is None:
            raise serializers.ValidationError(
                "Unable to log in with provided credentials.", code="authorization"
            )
        attrs["user"] = user
        return attrs


class TokenOutput(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


class TokenApi(ObtainAuthToken):
    """DRF's obtain_auth_token with bounded input and the log-in limits of the HTML form (per
    account and per address, counted in the shared cache), and a way to revoke the token."""

    serializer_class = TokenInput
    # ObtainAuthToken brings DRF's stock parsers; use the project's (safe on deep nesting).
    parser_classes = [SafeJSONParser]

    def get_permissions(self) -> list[Any]:
        # Anyone may ask for a token; only its holder (or a signed-in browser) may revoke it.
        return [IsAuthenticated()] if self.request.method == "DELETE" else []

    @extend_schema(
        operation_id="auth_token_create",
        summary="Get the account's API token",
        description="The same token until it is revoked. Wrong credentials are a 400; past the "
        "log-in limits (shared with the log-in form) a 429 with Retry-After.",
        request=TokenInput,
        responses={
            **ok(200, TokenOutput, {"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}),
            **errors({400: [], 429: ["too_many_attempts"]}, body=True),
        },
        examples=[
            OpenApiExample(
                "Log in", value={"username": "alice", "password": "s3cret-pass"}, request_only=True
            ),
        ],
        tags=["accounts"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)

    @extend_schema(
        operation_id="auth_token_revoke",
        summary="Revoke the account's API token",
        description="The token stops working at once (every client holding it gets 401); the "
        "next POST gives a new one.",
        request=None,
        responses={204: None, **errors({}, method="DELETE")},
        tags=["accounts"],
    )
    def delete(self, request: Request) -> Response:
        Token.objects.filter(user=current_user(request)).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Me and people ----------------------------------------------------------------------------


class MeApi(APIView):
    @extend_schema(
        operation_id="me",
        summary="Who I am",
        description="The account the request is signed in as.",
        responses={
            **ok(200, MeOutput, {**ALICE, "is_suspended": False, "is_staff": False}),
            **errors({}),
        },
        tags=["accounts"],
    )
    def get(self, request: Request) -> Response:
        return Response(MeOutput(current_user(request)).data)


class UserSearchApi(APIView):
    @extend_schema(
        operation_id="users_search",
        summary="Find people by name",
        description="Username or display name containing `q`; never anyone on the other side "
        "of a block.",
        parameters=[UserSearchQuery],
        responses={**ok(200, UserOutput(many=True), BOB), **errors({}, query=True)},
        tags=["accounts"],
    )
    def get(self, request: Request) -> Response:
        query = _validated(UserSearchQuery, request.query_params)["q"]
        users = selectors.user_search(user=current_user(request), query=query)
        return Response(UserOutput(users, many=True).data)


# --- Friends ----------------------------------------------------------------------------------


class FriendListApi(APIView):
    @extend_schema(
        operation_id="friends_list",
        summary="My friends",
        description="By username, a page at a time.",
        parameters=pagination.PARAMETERS,
        responses={
            **ok(200, UserPage, page_of(BOB, CHARLIE, path="/api/v1/friends/")),
            **errors({404: ["not_found"]}),
        },
        tags=["friends"],
    )
    def get(self, request: Request) -> Response:
        users = selectors.friends(user=current_user(request))
        return Response(_users_page(request, self, users))


class FriendRemoveApi(APIView):
    @extend_schema(
        operation_id="friends_remove",
        summary="Unfriend someone",
        description="Ends the friendship both ways.",
        responses={204: None, **errors({400: ["invalid"], 404: ["not_friends"]}, method="DELETE")},
        tags=["friends"],
    )
    def delete(self, request: Request, user_id: int) -> Response:
        friend_id = _validated(UserIdInput, {"user_id": user_id})["user_id"]
        services.friendship_remove(user=current_user(request), friend_id=friend_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FriendRequestsApi(APIView):
    @extend_schema(
        operation_id="friend_requests_list",
        summary="Friend requests waiting for an answer: to me and from me",
        description="Newest first; answer with accept/decline, withdraw with cancel.",
        responses={
            **ok(
                200,
                RequestsOutput,
                {
                    "incoming": [
                        {"id": 20, "from_user": CHARLIE, "created_at": "2029-12-17T08:15:00Z"}
                    ],
                    "outgoing": [OUTGOING],
                },
            ),
            **errors({}),
        },
        tags=["friends"],
    )
    def get(self, request: Request) -> Response:
        data = {
            "incoming": selectors.incoming_requests(user=current_user(request)).order_by(
                "-created_at"
            ),
            "outgoing": selectors.outgoing_requests(user=current_user(request)).order_by(
                "-created_at"
            ),
        }
        return Response(RequestsOutput(data).data)

    @extend_schema(
        operation_id="friend_requests_send",
        summary="Ask someone to be friends",
        description="201 with the pending request; 200 with `status: friends` when they had "
        "already asked you (you are friends now).",
        request=UsernameInput,
        responses={
            **ok(201, SendRequestOutput, {"status": "pending", "request": OUTGOING}),
            **ok(200, SendRequestOutput, {"status": "friends", "request": None}),
            **errors(
                {
                    400: ["cannot_befriend_self"],
                    404: ["user_not_found"],
                    409: ["already_friends", "request_pending"],
                    429: ["rate_limited"],
                },
                method="POST",
                body=True,
            ),
        },
        examples=[OpenApiExample("Ask bob", value={"username": "bob"}, request_only=True)],
        tags=["friends"],
    )
    def post(self, request: Request) -> Response:
        username = _validated(UsernameInput, request.data)["username"]
        recipient = selectors.user_by_username(username=username)
        sent = services.friend_request_send(sender=current_user(request), recipient=recipient)
        if sent is None:
            friends_now = {"status": "friends", "request": None}
            return Response(SendRequestOutput(friends_now).data, status=status.HTTP_200_OK)
        pending = {"status": "pending", "request": sent}
        return Response(SendRequestOutput(pending).data, status=status.HTTP_201_CREATED)


class FriendRequestAcceptApi(APIView):
    @extend_schema(
        operation_id="friend_requests_accept",
        summary="Accept a friend request made to me",
        description="You are friends now; returns the new friend.",
        request=None,
        responses={
            **ok(200, UserOutput, CHARLIE),
            **errors({400: ["invalid"], 404: ["request_not_found"]}, method="POST"),
        },
        tags=["friends"],
    )
    def post(self, request: Request, request_id: int) -> Response:
        request_id = _validated(RequestIdInput, {"request_id": request_id})["request_id"]
        friendship = services.friend_request_accept(
            user=current_user(request), request_id=request_id
        )
        return Response(UserOutput(friendship.friend).data)


class FriendRequestDeclineApi(APIView):
    @extend_schema(
        operation_id="friend_requests_decline",
        summary="Decline a friend request made to me",
        description="The request is gone; the sender is not told.",
        request=None,
        responses={
            204: None,
            **errors({400: ["invalid"], 404: ["request_not_found"]}, method="POST"),
        },
        tags=["friends"],
    )
    def post(self, request: Request, request_id: int) -> Response:
        request_id = _validated(RequestIdInput, {"request_id": request_id})["request_id"]
        services.friend_request_decline(user=current_user(request), request_id=request_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FriendRequestCancelApi(APIView):
    @extend_schema(
        operation_id="friend_requests_cancel",
        summary="Withdraw a friend request I made",
        description="The request is gone.",
        request=None,
        responses={
            204: None,
            **errors({400: ["invalid"], 404: ["request_not_found"]}, method="POST"),
        },
        tags=["friends"],
    )
    def post(self, request: Request, request_id: int) -> Response:
        request_id = _validated(RequestIdInput, {"request_id": request_id})["request_id"]
        services.friend_request_cancel(user=current_user(request), request_id=request_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Blocks -----------------------------------------------------------------------------------


class BlocksApi(APIView):
    @extend_schema(
        operation_id="blocks_list",
        summary="People I block",
        description="By username, a page at a time.",
        parameters=pagination.PARAMETERS,
        responses={
            **ok(200, UserPage, page_of(EVE, path="/api/v1/blocks/")),
            **errors({404: ["not_found"]}),
        },
        tags=["blocks"],
    )
    def get(self, request: Request) -> Response:
        users = selectors.blocked_users(user=current_user(request))
        return Response(_users_page(request, self, users))

    @extend_schema(
        operation_id="blocks_create",
        summary="Block someone",
        description="Ends a friendship and any pending request between you; neither of you "
        "sees the other in search, feeds or rooms.",
        request=UsernameInput,
        responses={
            **ok(201, UserOutput, EVE),
            **errors(
                {400: ["cannot_block_self"], 404: ["user_not_found"]}, method="POST", body=True
            ),
        },
        examples=[OpenApiExample("Block eve", value={"username": "eve"}, request_only=True)],
        tags=["blocks"],
    )
    def post(self, request: Request) -> Response:
        username = _validated(UsernameInput, request.data)["username"]
        block = services.user_block(
            blocker=current_user(request), blocked=selectors.user_by_username(username=username)
        )
        return Response(UserOutput(block.blocked).data, status=status.HTTP_201_CREATED)


class BlockRemoveApi(APIView):
    @extend_schema(
        operation_id="blocks_remove",
        summary="Unblock someone",
        description="Friendship does not come back by itself.",
        responses={204: None, **errors({400: ["invalid"], 404: ["not_blocked"]}, method="DELETE")},
        tags=["blocks"],
    )
    def delete(self, request: Request, user_id: int) -> Response:
        blocked_id = _validated(UserIdInput, {"user_id": user_id})["user_id"]
        services.user_unblock(blocker=current_user(request), blocked_id=blocked_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
