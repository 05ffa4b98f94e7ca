"""The API's JSON parser belongs to Rooms (rooms/parsers.py); the site's own API uses it too."""

from rooms.parsers import SafeJSONParser

__all__ = ["SafeJSONParser"]
