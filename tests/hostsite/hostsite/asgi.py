import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostsite.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from rooms.routing import websocket_urlpatterns as rooms_sockets  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Rooms' sockets under the same prefix as its pages.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([path("video/", URLRouter(rooms_sockets))]))
        ),
    }
)
