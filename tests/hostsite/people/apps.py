from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """The host site's own people: members who sign in with their email, follows and blocks."""

    name = "people"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from people.receivers import notify
        from rooms import signals

        signals.room_invitation.connect(notify, dispatch_uid="people-room-invitation")
        signals.room_live.connect(notify, dispatch_uid="people-room-live")
        signals.room_reminder.connect(notify, dispatch_uid="people-room-reminder")
