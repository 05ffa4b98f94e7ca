"""The feed page: Rooms' strip on top (`{% rooms_strip %}`), a composer, then posts newest
first."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.exceptions import NotFound as InvalidCursor
from rest_framework.request import Request

from accounts.models import User
from config.errors import DomainError
from feed import selectors, services
from feed.api import FeedPagination
from feed.models import POST_MAX


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has already sent anonymous users away
        raise Http404
    return user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return _render_home(request, _user(request))


def _render_home(
    request: HttpRequest, user: User, draft: str = "", status: int = 200
) -> HttpResponse:
    # The same cursor pagination as GET /api/feed/, so "Older posts" never skips or repeats.
    paginator = FeedPagination()
    try:
        posts = paginator.paginate_queryset(selectors.feed_posts(user=user), Request(request))
    except InvalidCursor:
        raise Http404("Invalid cursor") from None
    context = {
        "posts": posts,
        "next_link": paginator.get_next_link(),
        "previous_link": paginator.get_previous_link(),
        "post_max": POST_MAX,
        "draft": draft,
        # The "Create room" dialog says it, and the browser checks it before the API does.
        "password_min_length": settings.ROOMS_PASSWORD_MIN_LENGTH,
    }
    return render(request, "feed/home.html", context, status=status)


@login_required
@require_POST
def post_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    body = request.POST.get("body", "")
    try:
        services.post_create(author=user, body=body)
    except DomainError as error:
        # Show the page again with the draft kept, so nothing the user typed is lost.
        messages.error(request, error.message)
        return _render_home(request, user, draft=body[: POST_MAX * 2], status=error.status)
    messages.success(request, _("Posted."))
    return redirect("feed:home")


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """The header's "Mark all read" (without JavaScript): back to where the user was."""
    services.notifications_mark_read(user=_user(request), ids=None)
    back = request.POST.get("next") or request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = ""
    return redirect(back or "feed:home")
