"""A URLconf that mounts Rooms under /video/, as a host site may (tests/rooms/test_page_room.py)."""

from django.urls import include, path

urlpatterns = [path("video/", include("rooms.urls"))]
