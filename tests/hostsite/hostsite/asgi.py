import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostsite.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from rooms.origins import OriginValidator  # noqa: E402
from rooms.routing import websocket_urlpatterns as rooms_sockets  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Rooms' sockets (the room's and the live feed's) under the same prefix as its pages;
        # only this site's own pages may open them (the page's exact origin). No
        # TokenAuthMiddleware: this site has no API tokens (rest_framework.authtoken).
        "websocket": OriginValidator(
            AuthMiddlewareStack(URLRouter([path("video/", URLRouter(rooms_sockets))]))
        ),
    }
)
