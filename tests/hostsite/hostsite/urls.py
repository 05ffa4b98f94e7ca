from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from people import views

urlpatterns = [
    path("", views.home, name="home"),
    path("rooms/start/", views.start_room, name="start-room"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Rooms' pages and API under a prefix of the site's choosing.
    path("video/", include("rooms.urls")),
]
