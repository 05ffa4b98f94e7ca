from django.urls import URLPattern, URLResolver, path

from accounts import views as accounts_views
from feed import views

app_name = "feed"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("posts/", views.post_create, name="post_create"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    # The friends page sits at the top level next to the feed; its POST actions are under
    # /accounts/ (accounts/urls.py).
    path("friends/", accounts_views.friends, name="friends"),
]
