from django.urls import URLPattern, URLResolver, path

from feed import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("feed/", api.FeedApi.as_view(), name="api-feed"),
    path("posts/", api.PostCreateApi.as_view(), name="api-posts-create"),
    path("notifications/", api.NotificationsApi.as_view(), name="api-notifications"),
    path("notifications/read/", api.NotificationsReadApi.as_view(), name="api-notifications-read"),
]
