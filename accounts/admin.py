"""Accounts in the moderation console. Suspending goes through `accounts.services`."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import User
from rooms.admin_actions import apply_each, ask_for_note

SUSPENSION_REASON_MAX = 500


class SuspendedFilter(admin.SimpleListFilter):
    title = "suspended"
    parameter_name = "suspended"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(suspended_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(suspended_at__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "display_name",
        "email",
        "is_staff",
        "is_active",
        "suspended_at",
        "date_joined",
    )
    list_filter = (SuspendedFilter, "is_staff", "is_superuser", "is_active")
    search_fields = ("username", "display_name", "email")
    # Suspension is changed only by the actions below, which go through the service.
    readonly_fields = ("suspended_at", "suspension_reason", "last_login", "date_joined")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Profile", {"fields": ("display_name",)}),
        ("Suspension", {"fields": ("suspended_at", "suspension_reason")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Profile", {"fields": ("display_name",)}),
    )
    actions = ("suspend_users", "unsuspend_users")

    @admin.action(description=_("Suspend selected users…"), permissions=["change"])
    def suspend_users(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> TemplateResponse | None:
        reason = ask_for_note(
            self,
            request,
            queryset,
            action="suspend_users",
            title=_("Suspend users"),
            intro=_(
                "Suspended people can still log in and read, but can neither create nor join "
                "rooms. The reason is kept with the account."
            ),
            label=_("Reason"),
            submit_label=_("Suspend"),
            required=False,
            max_length=SUSPENSION_REASON_MAX,
        )
        if isinstance(reason, TemplateResponse):
            return reason
        apply_each(
            self,
            request,
            queryset,
            lambda user: services.user_suspend(user=user, reason=reason),
            verb=_("Suspended %(done)s of %(total)s selected."),
        )
        return None

    @admin.action(description=_("Unsuspend selected users"), permissions=["change"])
    def unsuspend_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        apply_each(
            self,
            request,
            queryset,
            lambda user: services.user_unsuspend(user=user),
            verb=_("Unsuspended %(done)s of %(total)s selected."),
        )
