from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from rooms import dashboard

urlpatterns = [
    # /healthz, /readyz and /metrics at the root, where load balancers and Prometheus look.
    path("", include("rooms.health_urls")),
    # Before the admin's own URLs; admin_view lets in active staff only (others log in first).
    path("admin/usage/", admin.site.admin_view(dashboard.usage), name="admin-usage"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("accounts.api_urls")),
    path("api/", include("feed.api_urls")),
    path("api/", include("rooms.api_urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("feed.urls")),
    path("", include("rooms.urls")),
]

handler400 = "config.errors.bad_request"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
