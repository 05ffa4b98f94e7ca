from django.urls import URLPattern, URLResolver, path

from accounts import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/token/", api.TokenApi.as_view(), name="api-auth-token"),
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("users/", api.UserSearchApi.as_view(), name="api-users-search"),
    path("friends/", api.FriendListApi.as_view(), name="api-friends"),
    path("friends/<int:user_id>/", api.FriendRemoveApi.as_view(), name="api-friends-remove"),
    path("friends/requests/", api.FriendRequestsApi.as_view(), name="api-friend-requests"),
    path(
        "friends/requests/<int:request_id>/accept/",
        api.FriendRequestAcceptApi.as_view(),
        name="api-friend-requests-accept",
    ),
    path(
        "friends/requests/<int:request_id>/decline/",
        api.FriendRequestDeclineApi.as_view(),
        name="api-friend-requests-decline",
    ),
    path(
        "friends/requests/<int:request_id>/cancel/",
        api.FriendRequestCancelApi.as_view(),
        name="api-friend-requests-cancel",
    ),
    path("blocks/", api.BlocksApi.as_view(), name="api-blocks"),
    path("blocks/<int:user_id>/", api.BlockRemoveApi.as_view(), name="api-blocks-remove"),
]
