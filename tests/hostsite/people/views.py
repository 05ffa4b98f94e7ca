from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from rooms import services
from rooms.errors import DomainError


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The site's own home page: Rooms' strip of rooms on top, and a "start a room" form."""
    return render(request, "home.html")


@login_required
@require_POST
def start_room(request: HttpRequest) -> HttpResponse:
    """The site's own form: Rooms' service makes the room, the member goes to its page."""
    try:
        room = services.room_create(host=request.user, title=request.POST.get("title", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("home")
    return redirect(reverse("rooms:room", kwargs={"token": room.token}))
