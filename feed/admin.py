"""Posts in the moderation console: find them and take them down."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from feed.models import Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("__str__", "author", "created_at")
    search_fields = ("body", "author__username", "author__display_name")
    list_filter = ("created_at",)
    list_select_related = ("author",)
    date_hierarchy = "created_at"
    fields = ("author", "body", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people post from the feed

    def has_change_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        return False  # staff may remove a post, not put words in someone's mouth
