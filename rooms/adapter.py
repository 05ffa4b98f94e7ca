"""The social-graph adapter: the only place Rooms learns about the host site's people.

A site connects Rooms to its own accounts and social graph with one class, named by the
ROOMS_ADAPTER setting (a dotted path; default "rooms.adapter.DefaultAdapter"):

    # mysite/rooms_adapter.py
    class MySiteAdapter(RoomsAdapter):
        def friend_ids(self, user):
            return Follow.objects.filter(...).values("other_id")
        def blocked_ids(self, user):
            return Mute.objects.filter(...).values("muted_id")

    # settings.py
    ROOMS_ADAPTER = "mysite.rooms_adapter.MySiteAdapter"

`friend_ids` and `blocked_ids` are the two methods a subclass must write; every other method has
a default built on them (or on django.contrib.auth) and may be overridden, e.g. to answer from
a cache or without a query. `DefaultAdapter` works with plain django.contrib.auth: nobody is
anybody's friend and nobody is blocked, so people reach a room by its link (through the waiting
room, unless the host turns it off) and nobody can be invited; it lets a site try Rooms before
writing its own adapter.

Every `user`, `a` and `b` below is a signed-in account: an instance of the site's user model
(`get_user_model()`). Rooms never calls the adapter for guests. Rooms calls these methods inside
its transactions and from its feed queries, so they must not write.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from rooms.users import User


class RoomsAdapter:
    """The base class of a site's adapter. Subclass it, write `friend_ids` and `blocked_ids`,
    and override anything else the site answers differently."""

    def friend_ids(self, user: User) -> QuerySet[Any, Any]:
        """The primary keys of `user`'s friends, as an unevaluated one-column QuerySet (e.g.
        `Friendship.objects.filter(user=user).values_list("friend_id", flat=True)` or
        `MyUser.objects.filter(...).values("pk")`).

        Rooms puts it inside its own queries (`host__in=adapter.friend_ids(user)`), which is
        what keeps the feed at a fixed number of queries however many friends someone has: do
        not evaluate it, and do not return a list. Rooms treats friendship as mutual: `b` is in
        `friend_ids(a)` exactly when `a` is in `friend_ids(b)` (a site with a one-way graph
        decides which symmetric relation counts, e.g. following each other).

        Friends see each other's rooms open to friends in their feed, may join them, and are
        the only people a host may invite.
        """
        raise NotImplementedError(f"{type(self).__name__} must define friend_ids()")

    def are_friends(self, a: User, b: User) -> bool:
        """Whether `a` and `b` are friends; must agree with `friend_ids`. The default asks the
        database through `friend_ids`; override it when the site can answer more cheaply."""
        users = get_user_model()._default_manager
        return users.filter(pk=b.pk).filter(pk__in=self.friend_ids(a)).exists()

    def blocked_ids(self, user: User) -> QuerySet[Any, Any]:
        """The primary keys of everyone on either side of a block with `user` (those `user`
        blocked and those who blocked `user`), as an unevaluated one-column QuerySet usable
        inside SQL, like `friend_ids`.

        Across a block a room does not exist: its link answers "not found", it never appears in
        the feed, its host can neither invite the other person nor make them a co-host.
        """
        raise NotImplementedError(f"{type(self).__name__} must define blocked_ids()")

    def is_blocked(self, a: User, b: User) -> bool:
        """Whether there is a block either way between `a` and `b`; must agree with
        `blocked_ids`. The default asks the database through `blocked_ids`."""
        users = get_user_model()._default_manager
        return users.filter(pk=b.pk).filter(pk__in=self.blocked_ids(a)).exists()

    def display_name(self, user: User) -> str:
        """How `user` is named to the others in a room: the roster, "hosted by", the audit log.
        Never empty; Rooms keeps the first 80 characters. It is shown to guests holding a room's
        link too, so it must not be private (an email address, say).

        The default: the full name when the user model has one, else the username unless the
        username is the email address, else "Member <pk>".
        """
        get_full_name = getattr(user, "get_full_name", None)
        full_name = str(get_full_name() or "").strip() if callable(get_full_name) else ""
        if full_name:
            return full_name
        if not _username_is_email(type(user)):
            username = str(user.get_username() or "").strip()
            if username:
                return username
        return f"Member {user.pk}"

    def avatar_url(self, user: User) -> str:
        """An image URL for `user`'s avatar, or "" when there is none (Rooms then shows their
        initial). The default has none."""
        return ""

    def language(self, user: User) -> str | None:
        """The language `user` chose (a code of settings.LANGUAGES, e.g. "ar"), or None when
        they chose none. Rooms writes what it tells someone outside a request of theirs (the
        human messages on their room socket, anything a task renders for them) in it, and the
        site's notification receivers can use `rooms.i18n.language_for(user)` for the same
        answer. None means the site's LANGUAGE_CODE. The default: None."""
        return None

    def can_create_rooms(self, user: User) -> bool:
        """Whether `user` may create rooms (False for a suspended account, say; the API answers
        403 "suspended"). The default: active accounts may."""
        return bool(user.is_active)

    def can_join_rooms(self, user: User) -> bool:
        """Whether `user` may join rooms, their own included (False for a suspended account,
        say). Asked on every join and when a dropped connection resumes, so a suspension takes
        effect at once. The default: active accounts may."""
        return bool(user.is_active)


class DefaultAdapter(RoomsAdapter):
    """For a site with plain django.contrib.auth and no social graph: nobody is a friend and
    nobody is blocked, names come from the user model, nobody has an avatar, and active accounts
    may create and join rooms."""

    def friend_ids(self, user: User) -> QuerySet[Any, Any]:
        return get_user_model()._default_manager.none().values("pk")

    def are_friends(self, a: User, b: User) -> bool:
        return False

    def blocked_ids(self, user: User) -> QuerySet[Any, Any]:
        return get_user_model()._default_manager.none().values("pk")

    def is_blocked(self, a: User, b: User) -> bool:
        return False


def _username_is_email(model: type[Any]) -> bool:
    username_field: str = model.USERNAME_FIELD
    email_field = getattr(model, "EMAIL_FIELD", None)
    return username_field == email_field or "email" in username_field.lower()


def get_adapter() -> RoomsAdapter:
    """The site's adapter: an instance of the class named by ROOMS_ADAPTER, made once per
    setting value (a test that overrides the setting gets its own adapter)."""
    path = settings.ROOMS_ADAPTER
    if not isinstance(path, str) or not path:
        raise ImproperlyConfigured(
            f"ROOMS_ADAPTER must be the dotted path of a RoomsAdapter subclass, not {path!r}."
        )
    return _adapter(path)


@cache
def _adapter(path: str) -> RoomsAdapter:
    try:
        adapter_class = import_string(path)
    except ImportError as error:
        raise ImproperlyConfigured(
            f"ROOMS_ADAPTER = {path!r} can't be imported: {error}"
        ) from error
    if not (isinstance(adapter_class, type) and issubclass(adapter_class, RoomsAdapter)):
        raise ImproperlyConfigured(
            f"ROOMS_ADAPTER = {path!r} is not a subclass of rooms.adapter.RoomsAdapter."
        )
    return adapter_class()
