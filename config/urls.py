from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import api_urls as accounts_api
from config import errors
from feed import api_urls as feed_api
from rooms.api_urls import unlisted

urlpatterns = [
    # /healthz, /readyz and /metrics at the root, where load balancers and Prometheus look.
    path("", include("rooms.health_urls")),
    path("admin/", admin.site.urls),
    # The scripts' translations (every app's djangojs catalog and locale/), in the page's language.
    path("jsi18n/site/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # The site's API: versioned paths (what the schema lists), then the older unversioned ones.
    path("api/v1/", include(accounts_api)),
    path("api/v1/", include(feed_api)),
    path("api/", include(unlisted(accounts_api.urlpatterns))),
    path("api/", include(unlisted(feed_api.urlpatterns))),
    path("accounts/", include("accounts.urls")),
    path("", include("feed.urls")),
    # Rooms' page (r/<token>/) and API (api/rooms/...); its sockets are in config/asgi.py.
    path("", include("rooms.urls")),
    # Anything else under /api/ is a 404 in the API's error shape, DEBUG or not (handler404
    # only runs with DEBUG off).
    re_path(r"^api/", errors.api_not_found),
]

handler400 = "config.errors.bad_request"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
