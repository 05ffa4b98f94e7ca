"""Account and friendship rules. Writes run in one transaction; errors are DomainErrors."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Block, FriendRequest, Friendship, User
from accounts.selectors import are_friends, blocked_either_way
from config.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from rooms import ratelimit


def _login_limits(username: str, address: str) -> list[ratelimit.Limit]:
    # Hashed: a username is whatever the client typed, and cache keys must stay short and plain.
    account = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
    window = settings.LOGIN_WINDOW_SECONDS
    return [
        ratelimit.Limit(f"login:account:{account}", settings.LOGIN_ATTEMPTS_PER_ACCOUNT, window),
        ratelimit.Limit(f"login:address:{address}", settings.LOGIN_ATTEMPTS_PER_ADDRESS, window),
    ]


def user_authenticate(
    *, username: str, password: str, address: str, request: Any = None
) -> User | None:
    """Check a log-in (the form and the token endpoint both come here). Returns the account, or
    None for a wrong username or password.

    Failures are limited per account and per client address (`address`, from
    rooms.addresses): past either limit, no password is checked at all until the window ends
    (TooManyRequests). The attempt is counted before the password is checked and given back on
    success, so parallel guesses can't slip past the limit and honest log-ins cost nothing.
    """
    taken = ratelimit.attempt(_login_limits(username, address))
    if not taken.allowed:
        raise TooManyRequests(
            "too_many_attempts",
            _("Too many failed log-ins for this account or from this network. Try again %(when)s.")
            % {"when": ratelimit.retry_phrase(taken.retry_after)},
            retry_after=taken.retry_after,
        )
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User):
        return None
    ratelimit.give_back(taken)
    return user


def _befriend(a: User, b: User) -> None:
    Friendship.objects.bulk_create(
        [Friendship(user=a, friend=b), Friendship(user=b, friend=a)], ignore_conflicts=True
    )
    FriendRequest.objects.filter(Q(from_user=a, to_user=b) | Q(from_user=b, to_user=a)).delete()


@transaction.atomic
def user_create(
    *, username: str, password: str, display_name: str = "", address: str | None = None
) -> User:
    """A new account. Input is validated by the caller's form (password validators included);
    a username taken in the meantime is a Conflict, not an IntegrityError.

    A sign-up from the network gives its client `address`: at most SIGNUPS_PER_ADDRESS_PER_HOUR
    accounts are created per address (TooManyRequests). None: not a sign-up (seed data, tests).
    """
    retry_after = (
        0
        if address is None
        else ratelimit.hourly(
            action="signup", actor=address, per_hour=settings.SIGNUPS_PER_ADDRESS_PER_HOUR
        )
    )
    if retry_after:
        raise TooManyRequests(
            "rate_limited",
            _("Too many new accounts from this network. Try again %(when)s.")
            % {"when": ratelimit.retry_phrase(retry_after)},
            retry_after=retry_after,
        )
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username, password=password, display_name=display_name.strip()
            )
    except IntegrityError:
        raise Conflict("username_taken", _("That username is taken.")) from None


def _lock_pair(a: User, b: User) -> None:
    # Two people asking each other at the same moment must end as friends, not as two pending
    # requests: lock both accounts, always in id order so two such calls cannot deadlock.
    list(User.objects.select_for_update().filter(pk__in=[a.pk, b.pk]).order_by("pk"))


@transaction.atomic
def friend_request_send(*, sender: User, recipient: User) -> FriendRequest | None:
    """Ask `recipient` to be friends.

    If the recipient had already asked the sender, the two become friends at once and None is
    returned. A block either way is answered like an unknown user, so a blocked person cannot
    learn who blocked them. At most FRIEND_REQUESTS_PER_HOUR per account (TooManyRequests).
    """
    if sender.pk == recipient.pk:
        raise InvalidInput(
            "cannot_befriend_self", _("You can't send a friend request to yourself.")
        )
    retry_after = ratelimit.hourly(
        action="friend-request", actor=str(sender.pk), per_hour=settings.FRIEND_REQUESTS_PER_HOUR
    )
    if retry_after:
        raise TooManyRequests(
            "rate_limited",
            _("You have sent too many friend requests. Try again %(when)s.")
            % {"when": ratelimit.retry_phrase(retry_after)},
            retry_after=retry_after,
        )
    _lock_pair(sender, recipient)
    if blocked_either_way(a=sender, b=recipient) or not recipient.is_active:
        raise NotFound("user_not_found", _("No such user."))
    if are_friends(a=sender, b=recipient):
        raise Conflict("already_friends", _("You are already friends."))
    if FriendRequest.objects.filter(from_user=recipient, to_user=sender).exists():
        _befriend(sender, recipient)
        return None
    try:
        with transaction.atomic():
            return FriendRequest.objects.create(from_user=sender, to_user=recipient)
    except IntegrityError:
        raise Conflict("request_pending", _("You already sent a friend request.")) from None


def _request_to(user: User, request_id: int) -> FriendRequest:
    request = (
        FriendRequest.objects.select_for_update()
        .select_related("from_user", "to_user")
        .filter(id=request_id, to_user=user)
        .first()
    )
    if request is None:
        raise NotFound("request_not_found", _("No such friend request."))
    return request


@transaction.atomic
def friend_request_accept(*, user: User, request_id: int) -> Friendship:
    request = _request_to(user, request_id)
    _befriend(request.from_user, request.to_user)
    return Friendship.objects.get(user=user, friend=request.from_user)


@transaction.atomic
def friend_request_decline(*, user: User, request_id: int) -> None:
    _request_to(user, request_id).delete()


@transaction.atomic
def friend_request_cancel(*, user: User, request_id: int) -> None:
    deleted, _rows = FriendRequest.objects.filter(id=request_id, from_user=user).delete()
    if not deleted:
        raise NotFound("request_not_found", _("No such friend request."))


@transaction.atomic
def friendship_remove(*, user: User, friend_id: int) -> None:
    deleted, _rows = Friendship.objects.filter(
        Q(user=user, friend_id=friend_id) | Q(user_id=friend_id, friend=user)
    ).delete()
    if not deleted:
        raise NotFound("not_friends", _("You are not friends with this person."))


@transaction.atomic
def user_block(*, blocker: User, blocked: User) -> Block:
    """Block ends the friendship and any pending request, both ways."""
    if blocker.pk == blocked.pk:
        raise InvalidInput("cannot_block_self", _("You can't block yourself."))
    Friendship.objects.filter(
        Q(user=blocker, friend=blocked) | Q(user=blocked, friend=blocker)
    ).delete()
    FriendRequest.objects.filter(
        Q(from_user=blocker, to_user=blocked) | Q(from_user=blocked, to_user=blocker)
    ).delete()
    block, _created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    return block


@transaction.atomic
def user_unblock(*, blocker: User, blocked_id: int) -> None:
    deleted, _rows = Block.objects.filter(blocker=blocker, blocked_id=blocked_id).delete()
    if not deleted:
        raise NotFound("not_blocked", _("You have not blocked this person."))


@transaction.atomic
def user_suspend(*, user: User, reason: str = "") -> User:
    if len(reason) > 500:
        raise InvalidInput("reason_too_long", _("The reason may be at most 500 characters."))
    if user.is_superuser:
        raise Forbidden("cannot_suspend_superuser", _("Superusers can't be suspended."))
    User.objects.filter(pk=user.pk, suspended_at__isnull=True).update(
        suspended_at=timezone.now(), suspension_reason=reason
    )
    user.refresh_from_db(fields=["suspended_at", "suspension_reason"])
    return user


@transaction.atomic
def user_unsuspend(*, user: User) -> User:
    User.objects.filter(pk=user.pk).update(suspended_at=None, suspension_reason="")
    user.refresh_from_db(fields=["suspended_at", "suspension_reason"])
    return user
