from django.urls import URLPattern, URLResolver, path

from feed import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("feed/", api.FeedApi.as_view(), name="api-feed"),
    path("posts/", api.PostCreateApi.as_view(), name="api-posts-create"),
]
