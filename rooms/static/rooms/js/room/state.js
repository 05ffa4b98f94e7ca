// The room as this client knows it: a snapshot, then versioned events.
// `applyEvent` mirrors rooms/events.py `apply_event` line for line; tests run both on the
// same inputs (tests/browser/test_state_reducer.py).

/** The part of a {"type": "snapshot"} message that events update. */
export function fromSnapshot(message) {
  const snapshot = {
    version: message.version,
    room: message.room,
    roster: [...message.roster],
  };
  if ("lobby" in message) snapshot.lobby = [...message.lobby];
  return snapshot;
}

const byId = (a, b) => a.id - b.id;

/**
 * Apply one event. Events the snapshot already holds change nothing; null means a version
 * was missed: ask for a fresh snapshot ({"type": "snapshot.request"}).
 */
export function applyEvent(snapshot, event) {
  const version = event.version;
  if (!Number.isInteger(version)) return snapshot;
  if (version <= snapshot.version) return snapshot;
  if (version !== snapshot.version + 1) return null;
  const updated = {
    version: event.version,
    room: "room" in event ? event.room : snapshot.room,
    roster: [...snapshot.roster],
  };
  if ("lobby" in snapshot) updated.lobby = [...snapshot.lobby];
  const person = event.participant ?? null;
  if (person !== null) {
    updated.roster = updated.roster.filter((p) => p.id !== person.id);
    if (person.state === "admitted") {
      updated.roster.push(person);
      updated.roster.sort(byId);
    }
    if ("lobby" in updated) {
      updated.lobby = updated.lobby.filter((p) => p.id !== person.id);
      if (person.state === "lobby") {
        updated.lobby.push(person);
        updated.lobby.sort(byId);
      }
    }
  }
  return updated;
}

export const isModeratorRole = (role) => role === "host" || role === "cohost";
