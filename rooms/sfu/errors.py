"""Errors the SFU API raises. All derive from ``SfuError``; messages are safe to show."""

from __future__ import annotations


class SfuError(Exception):
    """Base class: something the caller asked could not be done; the SFU itself is fine."""


class NegotiationError(SfuError):
    """An offer could not be applied (malformed SDP, no usable codec, no BUNDLE, ...)."""


class ScreenShareForbidden(SfuError):
    """The offer publishes a screen share but this participant may not share their screen."""


class ScreenShareBusy(SfuError):
    """The offer starts a screen share while the room already shows as many as it allows."""


class InvalidCandidate(SfuError):
    """An ICE candidate could not be parsed or applied."""


class InvalidTileSize(SfuError):
    """A reported tile size is out of range."""


class UnknownParticipant(SfuError):
    """No peer exists for this participant in this room."""


class RoomClosed(SfuError):
    """The room was closed; it accepts no more peers."""
