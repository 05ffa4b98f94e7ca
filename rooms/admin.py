"""The moderation console. Every change goes through `rooms.services`; nothing here decides.

Rooms, reports and bans are shown read-only: a room's settings belong to its host, and staff
act on rooms only through the actions below (end, lock, unlock, resolve, lift a ban), which
call the same services as the API and are written to the room's audit log.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from rooms import dashboard, services
from rooms.admin_actions import apply_each, ask_for_note
from rooms.errors import DomainError, NotFound
from rooms.models import (
    AuditEvent,
    Ban,
    Participant,
    ParticipantState,
    Report,
    ReportStatus,
    Room,
)
from rooms.users import User, signed_in


def _staff(request: HttpRequest) -> User:
    # The admin site only lets active staff in, so this is always one of the site's accounts.
    user = signed_in(request.user)
    if user is None:
        raise PermissionDenied
    return user


def _username(path: str) -> str:
    """The lookup `path` followed by the user model's username field (whatever it is called),
    for an admin's search_fields."""
    return f"{path}__{get_user_model().USERNAME_FIELD}"


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ParticipantInline(ReadOnlyInline):
    model = Participant
    fields = ("display_name", "user", "guest_id", "role", "state", "joined_at", "left_at")
    readonly_fields = fields
    ordering = ("created_at",)


class AuditEventInline(ReadOnlyInline):
    model = AuditEvent
    fk_name = "room"
    fields = ("version", "kind", "actor_name", "data", "created_at")
    readonly_fields = fields
    ordering = ("-version",)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "host",
        "state",
        "audience",
        "locked",
        "capacity",
        "participant_count",
        "created_at",
    )
    list_filter = ("state", "audience", "locked", "waiting_room", "signed_in_only")
    search_fields = ("title", "=token", _username("host"))
    list_select_related = ("host",)
    date_hierarchy = "created_at"
    # The password hash is never shown; `has_password` says whether there is one.
    fields = (
        "title",
        "host",
        "description",
        "state",
        "audience",
        "scheduled_start",
        "capacity",
        "waiting_room",
        "signed_in_only",
        "locked",
        "participants_can_share_screen",
        "several_screen_shares",
        "has_password",
        "token",
        "version",
        "created_at",
        "opened_at",
        "ended_at",
    )
    readonly_fields = fields
    inlines = (ParticipantInline, AuditEventInline)
    actions = ("end_rooms", "lock_rooms", "unlock_rooms")
    # The changelist links to the usage dashboard (one of this admin's own URLs, below), so the
    # site's admin index stays the site's.
    change_list_template = "rooms/admin/room_change_list.html"

    def get_urls(self) -> list[URLPattern]:
        # admin_view lets in active staff only (others log in first); the name is
        # "admin:rooms_usage" in whichever admin site this is registered with.
        usage = path("usage/", self.admin_site.admin_view(self.usage_view), name="rooms_usage")
        return [usage, *super().get_urls()]

    def usage_view(self, request: HttpRequest) -> HttpResponse:
        return dashboard.usage(request, self.admin_site)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Room]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _participant_count=Count(
                    "participants", filter=Q(participants__state=ParticipantState.ADMITTED)
                )
            )
        )

    @admin.display(description=_("in the room"), ordering="_participant_count")
    def participant_count(self, room: Room) -> int:
        return int(getattr(room, "_participant_count", 0))

    @admin.display(boolean=True, description=_("password"))
    def has_password(self, room: Room) -> bool:
        return room.has_password

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rooms are created by their hosts (`room_create`)

    def has_change_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        # The change form is view-only; the changelist keeps "change" so the actions work.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return False  # end a room instead; its history stays

    @admin.action(description=_("End selected rooms for everyone"), permissions=["change"])
    def end_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        actor = _staff(request)
        apply_each(
            self,
            request,
            queryset,
            lambda room: services.room_end(room=room, actor=actor, as_staff=True),
            verb=_("Ended %(done)s of %(total)s selected."),
        )

    @admin.action(description=_("Lock selected rooms"), permissions=["change"])
    def lock_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        actor = _staff(request)
        apply_each(
            self,
            request,
            queryset,
            lambda room: services.room_set_locked(
                room=room, actor=actor, locked=True, as_staff=True
            ),
            verb=_("Locked %(done)s of %(total)s selected."),
        )

    @admin.action(description=_("Unlock selected rooms"), permissions=["change"])
    def unlock_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        actor = _staff(request)
        apply_each(
            self,
            request,
            queryset,
            lambda room: services.room_set_locked(
                room=room, actor=actor, locked=False, as_staff=True
            ),
            verb=_("Unlocked %(done)s of %(total)s selected."),
        )


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    """Deleting a ban lifts it through `services.ban_lift`, so the room's audit log shows it."""

    list_display = ("display_name", "room", "user", "guest_id", "created_by", "created_at")
    list_filter = ("created_at", "room__state")
    search_fields = ("display_name", "guest_id", _username("user"), "room__title", "=room__token")
    list_select_related = ("room", "user", "created_by")
    fields = (
        "room",
        "display_name",
        "user",
        "guest_id",
        "device_id",
        "reason",
        "created_by",
        "created_at",
    )
    readonly_fields = fields
    actions = ("lift_bans",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # bans come from removing someone (`participant_remove`)

    def has_change_permission(self, request: HttpRequest, obj: Ban | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Django 6.1 asks with an `action_location` (and deprecates overrides without the
        # parameter); Django 5.2 has none to pass on.
        where = {} if action_location is None else {"action_location": action_location}
        actions = super().get_actions(request, **where)
        # Django's bulk delete would report success even where the service refused.
        actions.pop("delete_selected", None)
        return actions

    def _lift(self, request: HttpRequest, ban: Ban) -> None:
        # Already lifted meanwhile: the outcome asked for holds, so that is not an error.
        with contextlib.suppress(NotFound):
            services.ban_lift(room=ban.room, actor=_staff(request), ban_id=ban.pk, as_staff=True)

    def delete_model(self, request: HttpRequest, obj: Ban) -> None:
        try:
            self._lift(request, obj)
        except DomainError as error:
            raise PermissionDenied(error.message) from error

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Ban]) -> None:
        for ban in queryset:
            self.delete_model(request, ban)

    @admin.action(description=_("Lift selected bans"), permissions=["delete"])
    def lift_bans(self, request: HttpRequest, queryset: QuerySet[Ban]) -> None:
        apply_each(
            self,
            request,
            queryset,
            lambda ban: self._lift(request, ban),
            verb=_("Lifted %(done)s of %(total)s selected."),
        )


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The moderation queue: open reports first, newest first."""

    list_display = (
        "__str__",
        "status",
        "reason",
        "room_link",
        "reporter_name",
        "target_link",
        "created_at",
        "resolved_by",
    )
    list_filter = ("status", "reason", "created_at")
    search_fields = ("details", "room__title", "=room__token", "resolution_note")
    list_select_related = ("room", "reporter", "target", "resolved_by")
    # "open" sorts before "resolved".
    ordering = ("status", "-created_at")
    fields = (
        "room_link",
        "status",
        "reason",
        "details",
        "reporter_name",
        "target_link",
        "created_at",
        "resolved_by",
        "resolved_at",
        "resolution_note",
    )
    readonly_fields = fields
    actions = ("resolve_reports",)

    @admin.display(description=_("room"), ordering="room__title")
    def room_link(self, report: Report) -> str:
        url = reverse("admin:rooms_room_change", args=[report.room_id])
        return format_html('<a href="{}">{}</a>', url, report.room)

    @admin.display(description=_("reporter"))
    def reporter_name(self, report: Report) -> str:
        return report.reporter.display_name

    @admin.display(description=_("reported person"))
    def target_link(self, report: Report) -> str:
        target = report.target
        if target is None:
            return "— (the room)"
        if target.user_id is None:
            return f"{target.display_name} (guest)"
        opts = get_user_model()._meta
        try:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[target.user_id])
        except NoReverseMatch:  # the site keeps its accounts out of this admin
            return target.display_name
        return format_html('<a href="{}">{}</a>', url, target.display_name)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people report from inside a room (`report_create`)

    def has_change_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        return False  # reports are resolved, never erased

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        open_count = Report.objects.filter(status=ReportStatus.OPEN).count()
        title = ngettext(
            "Moderation queue: %(count)s open report",
            "Moderation queue: %(count)s open reports",
            open_count,
        ) % {"count": open_count}
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    @admin.action(description=_("Resolve selected reports…"), permissions=["change"])
    def resolve_reports(
        self, request: HttpRequest, queryset: QuerySet[Report]
    ) -> TemplateResponse | None:
        note = ask_for_note(
            self,
            request,
            queryset,
            action="resolve_reports",
            title=_("Resolve reports"),
            intro=_("Say what was done. The note is kept with each report."),
            label=_("Resolution note"),
            submit_label=_("Resolve"),
            max_length=services.DETAILS_MAX,
        )
        if isinstance(note, TemplateResponse):
            return note
        moderator = _staff(request)
        apply_each(
            self,
            request,
            queryset,
            lambda report: services.report_resolve(report=report, moderator=moderator, note=note),
            verb=_("Resolved %(done)s of %(total)s selected."),
        )
        return None
