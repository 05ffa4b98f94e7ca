"""Admin actions that call a service once per selected row, some after asking for a note.

Used by Rooms' moderation console (rooms/admin.py); a host site's own admin may use them too
(the reference site's account suspension does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from rooms.errors import DomainError


def ask_for_note(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    title: str | Promise,
    intro: str | Promise,
    label: str | Promise,
    submit_label: str | Promise,
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
        label=str(label),
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
    return TemplateResponse(request, "rooms/admin/action_with_note.html", context)


def apply_each(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    service_call: Callable[[Any], object],
    *,
    verb: str | Promise,
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
            model_admin.message_user(
                request,
                _("%(object)s: %(problem)s") % {"object": obj, "problem": error.message},
                level=messages.ERROR,
            )
        else:
            done += 1
    if done:
        model_admin.message_user(request, str(verb) % {"done": done, "total": done + refused})
