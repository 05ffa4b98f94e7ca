"""Health, readiness and metrics URLs (``rooms.health``): include them at the site's root, where
load balancers and Prometheus look for them."""

from django.urls import URLPattern, path

from rooms import health

urlpatterns: list[URLPattern] = [
    path("healthz", health.healthz, name="rooms-healthz"),
    path("readyz", health.readyz, name="rooms-readyz"),
    path("metrics", health.metrics_view, name="rooms-metrics"),
]
