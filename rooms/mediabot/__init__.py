"""A media client for Rooms, outside the SFU it talks to.

- ``clip``: pre-encoded media (VP8 and Opus), so a bot sends without encoding
- ``bot``: ``Bot``, one aiortc connection that publishes a clip and checks what it receives
- ``client``: ``RoomClient``, a bot that joins a room as a person does (join API, room socket,
  offers, moves between workers, resumes); ``python -m rooms.mediabot.client`` is the CLI

Tests, benchmarks (bench/) and operators checking a deployment use it; the SFU does not.
"""
