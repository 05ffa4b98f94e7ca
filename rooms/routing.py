from django.urls import path

from rooms.consumers import RoomConsumer
from rooms.feed_socket import FeedConsumer

websocket_urlpatterns = [
    path("ws/rooms/<str:token>/", RoomConsumer.as_asgi()),
    # Live room cards for the signed-in person's feed (rooms/feed_socket.py).
    path("ws/feed/", FeedConsumer.as_asgi()),
]
