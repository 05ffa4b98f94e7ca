from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    display_name = models.CharField(max_length=80, blank=True, verbose_name=_("display name"))
    # A suspended account can still log in and read, but may neither create nor join rooms.
    suspended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("suspended at"))
    suspension_reason = models.CharField(
        max_length=500, blank=True, verbose_name=_("suspension reason")
    )
    # The language this person chose with the switcher (a code of settings.LANGUAGES), or ""
    # for "as my browser says". Rooms reads it through the adapter (accounts/adapter.py) to
    # write notifications and reminders in it.
    language = models.CharField(max_length=16, blank=True, verbose_name=_("language"))

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def name(self) -> str:
        return self.display_name or self.username


class FriendRequest(models.Model):
    """A pending request; accepting, declining or cancelling deletes it."""

    from_user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("from user")
    )
    to_user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("to user")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("friend request")
        verbose_name_plural = _("friend requests")
        constraints = [
            models.UniqueConstraint(fields=["from_user", "to_user"], name="friend_request_once"),
            models.CheckConstraint(
                condition=~Q(from_user=F("to_user")), name="friend_request_not_self"
            ),
        ]


class Friendship(models.Model):
    """Stored twice, once from each side, so "friends of X" is a single indexed lookup."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="friendships", verbose_name=_("user")
    )
    friend = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("friend")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("friendship")
        verbose_name_plural = _("friendships")
        constraints = [
            models.UniqueConstraint(fields=["user", "friend"], name="friendship_once"),
            models.CheckConstraint(condition=~Q(user=F("friend")), name="friendship_not_self"),
        ]


class Block(models.Model):
    blocker = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="blocks", verbose_name=_("blocker")
    )
    blocked = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("blocked")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once"),
            models.CheckConstraint(condition=~Q(blocker=F("blocked")), name="block_not_self"),
        ]
