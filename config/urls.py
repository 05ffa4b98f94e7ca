from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    # /healthz, /readyz and /metrics at the root, where load balancers and Prometheus look.
    path("", include("rooms.health_urls")),
    path("admin/", admin.site.urls),
    # The scripts' translations (every app's djangojs catalog and locale/), in the page's language.
    path("jsi18n/site/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("accounts.api_urls")),
    path("api/", include("feed.api_urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("feed.urls")),
    # Rooms' page (r/<token>/) and API (api/rooms/...); its sockets are in config/asgi.py.
    path("", include("rooms.urls")),
]

handler400 = "config.errors.bad_request"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
