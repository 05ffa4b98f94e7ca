"""The accounts REST API: one small view per operation.

Each view validates its input with a serializer, calls a selector or a service, and renders
the result with an output serializer. Rules (blocks, pending requests, self-requests) live in
accounts/services.py; DomainErrors become the standard error shape in config/errors.py.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import User
from config.parsers import SafeJSONParser
from rooms.addresses import client_address

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


class MeOutput(UserOutput):
    is_suspended = serializers.BooleanField()
    is_staff = serializers.BooleanField()


class UsernameInput(serializers.Serializer):
    username = serializers.CharField(max_length=USERNAME_MAX)


class UserIdInput(serializers.Serializer):
    user_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class RequestIdInput(serializers.Serializer):
    request_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


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
    username = serializers.CharField(label="Username", max_length=USERNAME_MAX, write_only=True)
    password = serializers.CharField(
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


class TokenApi(ObtainAuthToken):
    """DRF's obtain_auth_token with bounded input and the log-in limits of the HTML form (per
    account and per address, counted in the shared cache)."""

    serializer_class = TokenInput
    # ObtainAuthToken brings DRF's stock parsers; use the project's (safe on deep nesting).
    parser_classes = [SafeJSONParser]


# --- Me and people ----------------------------------------------------------------------------


class MeApi(APIView):
    @extend_schema(operation_id="me", responses=MeOutput, tags=["accounts"])
    def get(self, request: Request) -> Response:
        return Response(MeOutput(current_user(request)).data)


class UserSearchApi(APIView):
    @extend_schema(
        operation_id="users_search",
        parameters=[UserSearchQuery],
        responses=UserOutput(many=True),
        tags=["accounts"],
    )
    def get(self, request: Request) -> Response:
        query = _validated(UserSearchQuery, request.query_params)["q"]
        users = selectors.user_search(user=current_user(request), query=query)
        return Response(UserOutput(users, many=True).data)


# --- Friends ----------------------------------------------------------------------------------


class FriendListApi(APIView):
    @extend_schema(operation_id="friends_list", responses=UserOutput(many=True), tags=["friends"])
    def get(self, request: Request) -> Response:
        users = selectors.friends(user=current_user(request))
        return Response(UserOutput(users, many=True).data)


class FriendRemoveApi(APIView):
    @extend_schema(operation_id="friends_remove", responses={204: None}, tags=["friends"])
    def delete(self, request: Request, user_id: int) -> Response:
        friend_id = _validated(UserIdInput, {"user_id": user_id})["user_id"]
        services.friendship_remove(user=current_user(request), friend_id=friend_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FriendRequestsApi(APIView):
    @extend_schema(operation_id="friend_requests_list", responses=RequestsOutput, tags=["friends"])
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
        request=UsernameInput,
        responses={201: SendRequestOutput, 200: SendRequestOutput},
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
        request=None,
        responses=UserOutput,
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
        request=None,
        responses={204: None},
        tags=["friends"],
    )
    def post(self, request: Request, request_id: int) -> Response:
        request_id = _validated(RequestIdInput, {"request_id": request_id})["request_id"]
        services.friend_request_decline(user=current_user(request), request_id=request_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FriendRequestCancelApi(APIView):
    @extend_schema(
        operation_id="friend_requests_cancel",
        request=None,
        responses={204: None},
        tags=["friends"],
    )
    def post(self, request: Request, request_id: int) -> Response:
        request_id = _validated(RequestIdInput, {"request_id": request_id})["request_id"]
        services.friend_request_cancel(user=current_user(request), request_id=request_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Blocks -----------------------------------------------------------------------------------


class BlocksApi(APIView):
    @extend_schema(operation_id="blocks_list", responses=UserOutput(many=True), tags=["blocks"])
    def get(self, request: Request) -> Response:
        users = selectors.blocked_users(user=current_user(request)).order_by("username")
        return Response(UserOutput(users, many=True).data)

    @extend_schema(
        operation_id="blocks_create",
        request=UsernameInput,
        responses={201: UserOutput},
        tags=["blocks"],
    )
    def post(self, request: Request) -> Response:
        username = _validated(UsernameInput, request.data)["username"]
        block = services.user_block(
            blocker=current_user(request), blocked=selectors.user_by_username(username=username)
        )
        return Response(UserOutput(block.blocked).data, status=status.HTTP_201_CREATED)


class BlockRemoveApi(APIView):
    @extend_schema(operation_id="blocks_remove", responses={204: None}, tags=["blocks"])
    def delete(self, request: Request, user_id: int) -> Response:
        blocked_id = _validated(UserIdInput, {"user_id": user_id})["user_id"]
        services.user_unblock(blocker=current_user(request), blocked_id=blocked_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
