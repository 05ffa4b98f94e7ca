"""Account pages. Names are global ("login", "logout") because settings.LOGIN_URL and
LOGOUT_REDIRECT_URL refer to them; the friends page itself is served at /friends/ (feed/urls.py).
"""

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, path

from accounts import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("friends/requests/", views.friend_request_send, name="friend_request_send"),
    path(
        "friends/requests/<int:request_id>/accept/",
        views.friend_request_accept,
        name="friend_request_accept",
    ),
    path(
        "friends/requests/<int:request_id>/decline/",
        views.friend_request_decline,
        name="friend_request_decline",
    ),
    path(
        "friends/requests/<int:request_id>/cancel/",
        views.friend_request_cancel,
        name="friend_request_cancel",
    ),
    path("friends/<int:user_id>/remove/", views.friend_remove, name="friend_remove"),
    path("blocks/", views.block, name="block"),
    path("blocks/<int:user_id>/remove/", views.unblock, name="unblock"),
    path("language/", views.set_language, name="set_language"),
]
