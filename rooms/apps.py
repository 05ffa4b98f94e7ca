from typing import Any

from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = pgettext_lazy("product name", "Rooms")

    def __init__(self, app_name: str, app_module: Any) -> None:
        super().__init__(app_name, app_module)
        from rooms import conf

        # Here rather than in ready(): the registry creates every app's config before it
        # imports any models or runs any ready(), so the defaults are in place for all of them.
        conf.apply_defaults()

    def ready(self) -> None:
        from django.core import checks

        from rooms.checks import check_settings

        checks.register(check_settings, "rooms")
