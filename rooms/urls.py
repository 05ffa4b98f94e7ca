from django.urls import URLPattern, URLResolver, path

from rooms import views

app_name = "rooms"

urlpatterns: list[URLPattern | URLResolver] = [
    path("r/<str:token>/", views.room_page, name="room"),
]
