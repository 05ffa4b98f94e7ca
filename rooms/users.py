"""The host site's accounts, as Rooms sees them: instances of `get_user_model()`, nothing more.

Rooms assumes no username, name or profile field: names, avatars, friends, blocks and whether
an account may use rooms come from the site's adapter (rooms.adapter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model

if TYPE_CHECKING:
    # django-stubs expands `_User` to the project's AUTH_USER_MODEL, so annotations written
    # with `User` type-check against whatever user model the site configured.
    from django.contrib.auth.models import _User as User
else:
    from django.contrib.auth.base_user import AbstractBaseUser as User

__all__ = ["User", "signed_in"]


def signed_in(user: object) -> User | None:
    """The account behind a request or a socket scope (`request.user`, `scope["user"]`), or None
    for anyone not signed in (AnonymousUser, no user at all)."""
    if isinstance(user, get_user_model()) and user.is_authenticated:
        return user
    return None
