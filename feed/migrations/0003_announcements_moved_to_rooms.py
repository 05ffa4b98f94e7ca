# The record of what has been announced moved to Rooms (rooms.Announcement and
# rooms.Invitation.announced_at), which now decides what is due and sends rooms.signals. What this
# app had recorded is carried over first, so nothing is announced a second time.

from __future__ import annotations

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Exists, OuterRef, Subquery


def carry_over(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    old = apps.get_model("feed", "Announcement")
    new = apps.get_model("rooms", "Announcement")
    Notification = apps.get_model("feed", "Notification")
    Invitation = apps.get_model("rooms", "Invitation")
    new.objects.bulk_create(
        [
            new(
                room_id=row.room_id,
                kind=row.kind,
                occurrence=row.occurrence,
                recipients=row.recipients,
                created_at=row.created_at,
            )
            for row in old.objects.all().iterator()
        ],
        ignore_conflicts=True,
    )
    told = Notification.objects.filter(
        room_id=OuterRef("room_id"), recipient_id=OuterRef("user_id"), kind="room_invitation"
    ).values("created_at")[:1]
    Invitation.objects.filter(Exists(told), announced_at__isnull=True).update(
        announced_at=Subquery(told)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feed", "0002_notifications"),
        ("rooms", "0007_announcements"),
    ]

    operations = [
        migrations.RunPython(carry_over, migrations.RunPython.noop, elidable=True),
        migrations.DeleteModel(name="Announcement"),
    ]
