"""The notifications hook: how Rooms tells the host site about invitations, rooms going live and
reminders, so the site can turn them into its own notifications (in-app, email, push).

Connect receivers in your AppConfig.ready()::

    from rooms import signals

    def notify(sender, *, room, recipients, kind, occurrence, **kwargs): ...

    signals.room_invitation.connect(notify, dispatch_uid="mysite-notify-invitation")
    signals.room_live.connect(notify, dispatch_uid="mysite-notify-live")
    signals.room_reminder.connect(notify, dispatch_uid="mysite-notify-reminder")

Every signal is sent with ``sender=rooms.models.Room`` and these keyword arguments:

- ``room``: the `rooms.models.Room` (``room.host`` loaded; ``reverse("rooms:room",
  kwargs={"token": room.token})`` is its page).
- ``recipients``: a non-empty list of user instances (``settings.AUTH_USER_MODEL``), active,
  never the host except for the host's own reminder, and never across a block with the host
  (as the adapter says).
- ``kind``: a `rooms.models.AnnouncementKind` value: ``"room_invitation"``, ``"room_live"``,
  ``"room_reminder"`` (to invitees and people who said they would come) or ``"host_reminder"``
  (to the host alone).
- ``occurrence``: ``""``, or for reminders the start time it is about (a start that was moved
  is a new reminder, with a new occurrence).

Delivery: once per (room, person, kind, occurrence). Rooms works out what is due in its own
Celery task (`rooms.tasks.announce_room`, enqueued after the change committed, and the periodic
`rooms.tasks.sweep_announcements`, which catches up whatever a lost task left undone), so a
signal is only ever sent about news that has committed, never from inside the request that made
it. It is sent inside the transaction that records the announcement as done: what a receiver
writes to the database commits together with that record, so it is written exactly once
(retries, two workers at once and a worker killed half-way included). A receiver that raises
rolls the record back and the sweep sends the signal again later. Do anything outside the
database (a live push, an email) in ``transaction.on_commit``.
"""

from __future__ import annotations

from django.dispatch import Signal

# Someone was invited to a room (told once per invitation).
room_invitation = Signal()

# A room went live (its host arrived): its audience is the host's friends for a room open to
# all friends, the invitees for an invite-only room.
room_live = Signal()

# A scheduled room starts soon (settings.ROOMS_REMINDER_MINUTES ahead): kind "room_reminder"
# to the people expected, kind "host_reminder" to the host.
room_reminder = Signal()
