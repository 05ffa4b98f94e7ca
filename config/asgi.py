import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before anything imports models (consumers, routing).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from rooms.origins import OriginValidator  # noqa: E402
from rooms.routing import websocket_urlpatterns as room_sockets  # noqa: E402
from rooms.socket_auth import TokenAuthMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Browsers always send Origin on WebSockets; only this site's own origin and
        # ROOMS_ALLOWED_ORIGINS (scheme, host and port exactly) get through (rooms/origins.py).
        "websocket": OriginValidator(
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(room_sockets)))
        ),
    }
)
