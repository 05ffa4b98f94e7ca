"""The reference site with none of Rooms' settings (tests/rooms/test_conf.py): what a site that
only adds `rooms` to INSTALLED_APPS and sets nothing else of Rooms' gets."""

import config.settings as _site
from config.settings import *  # noqa: F403

for _name in dir(_site):
    if _name.startswith("ROOMS_"):
        del globals()[_name]
