"""Accounts in the moderation console. Suspending goes through `accounts.services`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from accounts import services
from accounts.models import User
from config.errors import DomainError

SUSPENSION_REASON_MAX = 500


def ask_for_note(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    title: str,
    intro: str,
    label: str,
    submit_label: str,
    required: bool = True,
    max_length: int = 2000,
) -> str | TemplateResponse:
    """The intermediate page of an admin action that needs a note before it runs.

    Returns the note once the page was submitted (`apply`) and is valid; otherwise the page to
    show. The page posts the action name and the selected ids back to the changelist, which
    calls the action again.
    """
    form = forms.Form(request.POST if "apply" in request.POST else None)
    form.fields["note"] = forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )
    if form.is_bound and form.is_valid():
        return str(form.cleaned_data["note"])
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit_label": submit_label,
        "form": form,
        "queryset": queryset,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "opts": opts,
        "media": model_admin.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/action_with_note.html", context)


def apply_each(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    service_call: Callable[[Any], object],
    *,
    verb: str,
) -> None:
    """Call a service once per selected object and say how it went.

    A refusal (a DomainError) is shown next to the object's name; the others still go ahead,
    each in its own transaction, so one bad row doesn't undo the rest.
    """
    done = refused = 0
    for obj in queryset:
        try:
            service_call(obj)
        except DomainError as error:
            refused += 1
            model_admin.message_user(request, f"{obj}: {error.message}", level=messages.ERROR)
        else:
            done += 1
    if done:
        model_admin.message_user(request, f"{verb} {done} of {done + refused} selected.")


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

    @admin.action(description="Suspend selected users…", permissions=["change"])
    def suspend_users(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> TemplateResponse | None:
        reason = ask_for_note(
            self,
            request,
            queryset,
            action="suspend_users",
            title="Suspend users",
            intro=(
                "Suspended people can still log in and read, but can neither create nor join "
                "rooms. The reason is kept with the account."
            ),
            label="Reason",
            submit_label="Suspend",
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
            verb="Suspended",
        )
        return None

    @admin.action(description="Unsuspend selected users", permissions=["change"])
    def unsuspend_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        apply_each(
            self,
            request,
            queryset,
            lambda user: services.user_unsuspend(user=user),
            verb="Unsuspended",
        )
