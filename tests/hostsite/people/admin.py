from django.contrib import admin

from people.models import Block, Follow, Member


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["email", "full_name", "is_staff", "suspended"]
    search_fields = ["email", "full_name"]


admin.site.register(Follow)
admin.site.register(Block)
