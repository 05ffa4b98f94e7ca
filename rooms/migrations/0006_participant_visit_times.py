"""What the usage dashboard needs to add up a month of visits in the database (rooms.usage).

- An index on (left_at, joined_at): only the visits that ended in the window, or are still
  open, are read, however long the history.
- On PostgreSQL, statistics on the UTC days of the join and leave times. The dashboard groups
  visits by those two days; without them the planner guesses about one group per visit, and
  then neither splits the work over parallel workers nor stays under its JIT threshold (at
  1,000,000 visits that doubled the time: README, "Usage dashboard cost"). The expressions
  are the ones Django writes for TruncDate(..., tzinfo=UTC), or the planner does not match
  them.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

STATISTICS = "participant_visit_days"


def create_statistics(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE STATISTICS {STATISTICS} (ndistinct) "
        "ON ((joined_at AT TIME ZONE 'UTC')::date), ((left_at AT TIME ZONE 'UTC')::date) "
        "FROM rooms_participant"
    )
    schema_editor.execute("ANALYZE rooms_participant")


def drop_statistics(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0005_signed_in_only"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(fields=["left_at", "joined_at"], name="participant_visit_times"),
        ),
        migrations.RunPython(create_statistics, drop_statistics),
    ]
