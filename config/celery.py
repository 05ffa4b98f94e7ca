import os

from celery import Celery

from rooms import celery_metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("rooms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task outcomes for Prometheus (ROOMS_CELERY_METRICS_PORT on workers, /metrics in embedded mode).
celery_metrics.connect()
