from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """The host site's own people: members who sign in with their email, follows and blocks."""

    name = "people"
    default_auto_field = "django.db.models.BigAutoField"
