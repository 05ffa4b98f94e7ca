"""The feed REST API: the feed (rooms on top, then posts) and publishing a post."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import current_user
from feed import selectors, services
from feed.models import POST_MAX, NotificationKind
from feed.notifications import notification_public
from rooms import openapi, pagination
from rooms.openapi import errors, ok
from rooms.selectors import feed_rooms
from rooms.serializers import (
    RoomFeedSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
)

# Larger ids name nothing, and would overflow the database driver.
MAX_ID = 2**53


# Examples of the success bodies (rooms/openapi.py has the rooms' own).
POST = {
    "id": 31,
    "author": {"id": 8, "display_name": "Bob"},
    "body": "Quiz night at 8!",
    "created_at": "2030-01-01T12:00:00Z",
}
NOTIFICATION = {
    "id": 7,
    "kind": "room_live",
    "text": "Alice's room “Quiz night” is live. Join in!",
    "room": {
        "token": openapi.ROOM_TOKEN,
        "title": "Quiz night",
        "link": f"/r/{openapi.ROOM_TOKEN}/",
        "state": "open",
        "scheduled_start": "2030-01-01T16:00:00+00:00",
    },
    "created_at": "2030-01-01T16:01:12+00:00",
    "read": False,
}


class FeedPagination(CursorPagination):
    page_size = 20
    ordering = selectors.FEED_ORDERING


# --- Serializers ------------------------------------------------------------------------------


class PersonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField(source="name")


class PostOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = PersonOutput()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class FeedOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PostOutput(many=True)
    rooms = RoomFeedSerializer(help_text="Rooms' own feed (GET rooms/feed/), on top.")


class PostInput(serializers.Serializer):
    body = StrictCharField(max_length=POST_MAX)


# --- Views ------------------------------------------------------------------------------------


class FeedApi(APIView):
    @extend_schema(
        operation_id="feed",
        summary="My feed: rooms on top, then my friends' and my posts, newest first",
        description="`rooms` is the same as GET rooms/feed/; posts come a page at a time "
        "(`cursor`).",
        parameters=[
            OpenApiParameter(
                "cursor",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description="Opaque cursor from a previous page's next/previous link.",
            )
        ],
        responses={
            **ok(
                200,
                FeedOutput,
                {**openapi.page_of(POST, path="/api/v1/feed/"), "rooms": openapi.ROOM_FEED},
            ),
            **errors({404: ["not_found"]}, query=True),
        },
        tags=["feed"],
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        paginator = FeedPagination()
        posts = paginator.paginate_queryset(selectors.feed_posts(user=user), request, view=self)
        live, upcoming = feed_rooms(user=user, now=timezone.now())
        data: dict[str, Any] = {
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": posts,
            "rooms": {"live": live, "upcoming": upcoming},
        }
        return Response(FeedOutput(data).data)


class PostCreateApi(APIView):
    @extend_schema(
        operation_id="posts_create",
        summary="Post to my friends' feeds",
        description="Plain text; friends see it in their feed.",
        request=PostInput,
        responses={
            **ok(201, PostOutput, {**POST, "id": 32, "author": {"id": 7, "display_name": "Alice"}}),
            **errors(
                {400: ["post_empty", "post_too_long"], 429: ["rate_limited"]},
                method="POST",
                body=True,
            ),
        },
        examples=[OpenApiExample("A post", value={"body": "Quiz night at 8!"}, request_only=True)],
        tags=["feed"],
    )
    def post(self, request: Request) -> Response:
        serializer = PostInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        post = services.post_create(
            author=current_user(request), body=serializer.validated_data["body"]
        )
        return Response(PostOutput(post).data, status=status.HTTP_201_CREATED)


# --- notifications ----------------------------------------------------------------------------


class NotificationRoomOutput(serializers.Serializer):
    token = serializers.CharField()
    title = serializers.CharField()
    link = serializers.CharField()
    state = serializers.CharField(help_text="scheduled, open or ended")
    scheduled_start = serializers.DateTimeField(allow_null=True)


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    text = serializers.CharField()
    room = NotificationRoomOutput()
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()


class NotificationsOutput(serializers.Serializer):
    unread_count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True, help_text="The next page, or null.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null.")
    results = NotificationOutput(many=True)


class NotificationsReadInput(serializers.Serializer):
    ids = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=services.MARK_READ_MAX,
    )
    all = StrictBooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("all") == ("ids" in attrs):
            raise serializers.ValidationError("Send either ids or all: true.")
        return attrs


class NotificationsReadOutput(serializers.Serializer):
    unread_count = serializers.IntegerField()


class NotificationsApi(APIView):
    @extend_schema(
        operation_id="notifications",
        summary="My notifications, newest first, with the unread count",
        description="A page at a time; `unread_count` counts them all.",
        parameters=pagination.PARAMETERS,
        responses={
            **ok(
                200,
                NotificationsOutput,
                {"unread_count": 1, **openapi.page_of(NOTIFICATION, path="/api/v1/notifications/")},
            ),
            **errors({404: ["not_found"]}),
        },
        tags=["notifications"],
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        data = {
            "unread_count": selectors.unread_count(user=user),
            **pagination.page(
                request,
                self,
                selectors.notifications_queryset(user=user),
                ordering=("-created_at", "-id"),
                render=lambda rows: [notification_public(n) for n in rows],
            ),
        }
        return Response(NotificationsOutput(data).data)


class NotificationsReadApi(APIView):
    @extend_schema(
        operation_id="notifications_read",
        summary="Mark notifications read: some (ids) or all",
        description='Send exactly one of `ids` and `"all": true`; both or neither is a 400 '
        "(`invalid`). An id that is not yours is a 404.",
        request=NotificationsReadInput,
        responses={
            **ok(200, NotificationsReadOutput, {"unread_count": 0}),
            **errors(
                {
                    400: ["no_notifications", "too_many_notifications"],
                    404: ["notification_not_found"],
                },
                method="POST",
                body=True,
            ),
        },
        examples=[
            OpenApiExample("Some", value={"ids": [7, 8]}, request_only=True),
            OpenApiExample("All", value={"all": True}, request_only=True),
        ],
        tags=["notifications"],
    )
    def post(self, request: Request) -> Response:
        serializer = NotificationsReadInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        unread = services.notifications_mark_read(
            user=current_user(request), ids=None if data["all"] else data["ids"]
        )
        return Response(NotificationsReadOutput({"unread_count": unread}).data)
