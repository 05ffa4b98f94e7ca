"""Rooms' HTTP URLs: the room page and the REST API. A site includes them under any prefix
(`path("", include("rooms.urls"))` on the reference site, `path("video/", ...)` elsewhere); the
room socket's routes (`rooms.routing`) go under the same prefix (rooms/links.py)."""

from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import JavaScriptCatalog

from rooms import api_urls, views

app_name = "rooms"

urlpatterns: list[URLPattern | URLResolver] = [
    path("r/<str:token>/", views.room_page, name="room"),
    # The API's versioned paths first (the contract the schema describes), then the same
    # operations at their older unversioned paths.
    path("api/v1/", include(api_urls)),
    path("api/", include(api_urls.unlisted(api_urls.urlpatterns))),
    # Rooms' scripts' translations (rooms/locale/*/djangojs.po) in the page's language; Rooms'
    # pages and the feed strip load it before their modules (rooms/static/rooms/js/lib/i18n.js).
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["rooms"]), name="jsi18n"),
]
