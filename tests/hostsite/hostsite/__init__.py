# The site's Celery app, loaded with Django as the Celery docs tell a project to do: Rooms'
# tasks are shared tasks that this app discovers.
from hostsite.celery import app as celery_app

__all__ = ["celery_app"]
