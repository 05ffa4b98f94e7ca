"""Account pages: sign-up, log-in, and the friends page with its plain POST actions.

Log-in is Django's view with a limited form, log-out Django's own (see accounts/urls.py). Every
action calls a service in accounts/services.py and reports a DomainError's message.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import i18n as i18n_views
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.api import MAX_ID
from accounts.forms import LoginForm, PeopleSearchForm, SignUpForm, UsernameForm
from accounts.languages import supported
from accounts.models import User
from config.errors import DomainError, TooManyRequests
from rooms.addresses import client_address


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has already sent anonymous users away
        raise Http404
    return user


def _checked_id(value: int) -> int:
    # A URL can carry any number of digits; an id beyond 64 bits can't exist (and would
    # overflow the database driver), so it is simply not found.
    if not 1 <= value <= MAX_ID:
        raise Http404
    return value


def _back_to_friends(request: HttpRequest) -> HttpResponseRedirect:
    """Return to the friends page, keeping a valid search so its results stay on screen."""
    url = reverse("feed:friends")
    search = PeopleSearchForm(request.POST)
    if search.is_valid():
        url += "?" + urlencode({"q": search.cleaned_data["q"]})
    return redirect(url)


def _run(request: HttpRequest, action: Callable[[], object], success: str) -> None:
    try:
        action()
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)


def _refused(response: HttpResponse, retry_after: int) -> HttpResponse:
    # The page shows the form error; the status and header tell scripts the same thing.
    response.status_code = 429
    response["Retry-After"] = str(retry_after)
    return response


# --- Log-in and sign-up -----------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        return _refused(response, form.retry_after) if form.retry_after else response


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("feed:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
                address=client_address(request),
            )
        except TooManyRequests as error:
            form.add_error(None, error.message)
            page = render(request, "registration/signup.html", {"form": form})
            return _refused(page, error.retry_after)
        except DomainError as error:
            form.add_error("username", error.message)
            return render(request, "registration/signup.html", {"form": form})
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome, %(name)s!") % {"name": user.name})
        return redirect("feed:home")
    return render(request, "registration/signup.html", {"form": form})


# --- Friends page -----------------------------------------------------------------------------


@login_required
def friends(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    search = PeopleSearchForm(request.GET if "q" in request.GET else None)
    results: list[User] | None = None
    if search.is_valid():
        results = list(selectors.user_search(user=user, query=search.cleaned_data["q"]))
    friend_list = list(selectors.friends(user=user))
    incoming = list(selectors.incoming_requests(user=user).order_by("-created_at"))
    outgoing = list(selectors.outgoing_requests(user=user).order_by("-created_at"))
    friend_ids = {f.pk for f in friend_list}
    pending_ids = {r.to_user_id for r in outgoing} | {r.from_user_id for r in incoming}
    context = {
        "search": search,
        "results": results,
        "friends": friend_list,
        "incoming": incoming,
        "outgoing": outgoing,
        "blocked": list(selectors.blocked_users(user=user).order_by("username")),
        "friend_ids": friend_ids,
        "pending_ids": pending_ids,
    }
    return render(request, "accounts/friends.html", context)


@login_required
@require_POST
def friend_request_send(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = UsernameForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose someone to send a friend request to."))
        return _back_to_friends(request)
    username = form.cleaned_data["username"]
    try:
        sent = services.friend_request_send(
            sender=user, recipient=selectors.user_by_username(username=username)
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if sent is None:  # they had already asked us: the service made us friends at once
            messages.success(request, _("You and %(name)s are now friends.") % {"name": username})
        else:
            messages.success(request, _("Friend request sent to %(name)s.") % {"name": username})
    return _back_to_friends(request)


@login_required
@require_POST
def friend_request_accept(request: HttpRequest, request_id: int) -> HttpResponse:
    user, request_id = _user(request), _checked_id(request_id)
    _run(
        request,
        lambda: services.friend_request_accept(user=user, request_id=request_id),
        _("Friend request accepted."),
    )
    return _back_to_friends(request)


@login_required
@require_POST
def friend_request_decline(request: HttpRequest, request_id: int) -> HttpResponse:
    user, request_id = _user(request), _checked_id(request_id)
    _run(
        request,
        lambda: services.friend_request_decline(user=user, request_id=request_id),
        _("Friend request declined."),
    )
    return _back_to_friends(request)


@login_required
@require_POST
def friend_request_cancel(request: HttpRequest, request_id: int) -> HttpResponse:
    user, request_id = _user(request), _checked_id(request_id)
    _run(
        request,
        lambda: services.friend_request_cancel(user=user, request_id=request_id),
        _("Friend request cancelled."),
    )
    return _back_to_friends(request)


@login_required
@require_POST
def friend_remove(request: HttpRequest, user_id: int) -> HttpResponse:
    user, friend_id = _user(request), _checked_id(user_id)
    _run(
        request,
        lambda: services.friendship_remove(user=user, friend_id=friend_id),
        _("Removed from your friends."),
    )
    return _back_to_friends(request)


@login_required
@require_POST
def block(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = UsernameForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose someone to block."))
        return _back_to_friends(request)
    username = form.cleaned_data["username"]
    _run(
        request,
        lambda: services.user_block(
            blocker=user, blocked=selectors.user_by_username(username=username)
        ),
        _("You blocked %(name)s. They can't find you, send you requests or see your rooms.")
        % {"name": username},
    )
    return _back_to_friends(request)


@login_required
@require_POST
def unblock(request: HttpRequest, user_id: int) -> HttpResponse:
    user, blocked_id = _user(request), _checked_id(user_id)
    _run(
        request,
        lambda: services.user_unblock(blocker=user, blocked_id=blocked_id),
        _("Unblocked."),
    )
    return _back_to_friends(request)


# --- Language ---------------------------------------------------------------------------------


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher: Django's set_language (the language cookie, for everyone, and
    the redirect back to `next`), and for a signed-in person their account's language too, so
    it follows them to every device and into their notifications. An unknown code changes
    nothing."""
    response = i18n_views.set_language(request)
    language = supported(request.POST.get("language"))
    user = request.user
    if language and isinstance(user, User) and user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return response
