"""The feed REST API: the feed (rooms on top, then posts) and publishing a post."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import current_user
from feed import selectors, services
from feed.models import POST_MAX
from rooms.models import Audience, Room, RoomState
from rooms.selectors import feed_rooms


class FeedPagination(CursorPagination):
    page_size = 20
    ordering = selectors.FEED_ORDERING


def room_link(room: Room) -> str:
    return f"/r/{room.token}/"


# --- Serializers ------------------------------------------------------------------------------


class PersonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField(source="name")


class FriendInsideOutput(serializers.Serializer):
    id = serializers.IntegerField(source="user_id")
    display_name = serializers.CharField(source="user.name")


class RoomCardOutput(serializers.Serializer):
    token = serializers.CharField()
    link = serializers.SerializerMethodField()
    title = serializers.CharField()
    description = serializers.CharField()
    host = PersonOutput()
    state = serializers.ChoiceField(choices=RoomState.choices)
    scheduled_start = serializers.DateTimeField(allow_null=True)
    participant_count = serializers.IntegerField()
    friends_inside = FriendInsideOutput(many=True)
    audience = serializers.ChoiceField(choices=Audience.choices)
    has_password = serializers.BooleanField()

    def get_link(self, room: Room) -> str:
        return room_link(room)


class FeedRoomsOutput(serializers.Serializer):
    live = RoomCardOutput(many=True)
    upcoming = RoomCardOutput(many=True)


class PostOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = PersonOutput()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class FeedOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PostOutput(many=True)
    rooms = FeedRoomsOutput()


class PostInput(serializers.Serializer):
    body = serializers.CharField(max_length=POST_MAX)


# --- Views ------------------------------------------------------------------------------------


class FeedApi(APIView):
    @extend_schema(
        operation_id="feed",
        parameters=[
            OpenApiParameter(
                "cursor",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description="Opaque cursor from a previous page's next/previous link.",
            )
        ],
        responses=FeedOutput,
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
        request=PostInput,
        responses={201: PostOutput},
        tags=["feed"],
    )
    def post(self, request: Request) -> Response:
        serializer = PostInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        post = services.post_create(
            author=current_user(request), body=serializer.validated_data["body"]
        )
        return Response(PostOutput(post).data, status=status.HTTP_201_CREATED)
