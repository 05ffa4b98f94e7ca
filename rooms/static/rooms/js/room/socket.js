// The room socket: open with a join ticket, resume after a drop, report what happens.
//
// The server ends a visit on purpose with a message first ("removed", "room.ended",
// "lobby.denied", "left", "replaced") and one of these close codes (rooms/consumers.py).
// Any other close is a dropped connection: resume with the last resume token for up to
// RESUME_WINDOW_MS, and let the page rejoin through the API when a resume is refused.

export const CLOSE = { LEFT: 4000, REFUSED: 4003, REMOVED: 4004, ENDED: 4005, REPLACED: 4009, FLOOD: 4029 };
const FINAL_CODES = new Set(Object.values(CLOSE));
// The server was briefly unable to connect us (database or Redis down): the same ticket or
// resume token works on a later try, so this is never a reason to give up on resuming.
const UNAVAILABLE = 4503;
const RESUME_WINDOW_MS = 15000;
const PING_MS = 20000;

export class RoomSocket {
  /**
   * @param {string} path the room socket's path (the page's config.urls.socket)
   * @param {{onMessage: Function, onDrop: Function, onOpen: Function, onFinal: Function,
   *          onResumeFailed: Function}} handlers
   */
  constructor(path, handlers) {
    this.path = path;
    this.handlers = handlers;
    this.ws = null;
    this.resumeToken = "";
    this.droppedAt = 0;
    this.finished = false;
    this.retryTimer = 0;
    this.pingTimer = 0;
    this.attempt = 0;
  }

  open(ticket) {
    this.finished = false;
    this._connect(`ticket=${encodeURIComponent(ticket)}`);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  /** Stop for good (leaving, removed, ended...). */
  close() {
    this.finished = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
  }

  _connect(query) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}${this.path}?${query}`);
    this.ws = ws;
    let greeted = false;
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "hello") {
        greeted = true;
        this.resumeToken = message.resume_token;
        const wasDropped = this.droppedAt !== 0;
        this.droppedAt = 0;
        this.attempt = 0;
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_MS);
        this.handlers.onOpen?.({ resumed: wasDropped });
      }
      this.handlers.onMessage(message);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws) return;
      clearInterval(this.pingTimer);
      if (this.finished) return;
      if (FINAL_CODES.has(event.code) && greeted) {
        // The message that explains it came first; the page has already acted on it.
        this.finished = true;
        this.handlers.onFinal?.(event.code);
        return;
      }
      this._dropped(greeted || event.code === UNAVAILABLE);
    });
  }

  _dropped(wasGreeted) {
    const now = Date.now();
    if (!this.droppedAt) {
      this.droppedAt = now;
      this.handlers.onDrop?.();
    }
    const elapsed = now - this.droppedAt;
    this.attempt += 1;
    const delay = Math.min(250 * 2 ** (this.attempt - 1), 3000);
    // A resume refused before the hello (its token expired, the seat went) will not work
    // later either: hand over to the page, which asks the join API again.
    const resumeHopeless = !wasGreeted && this.attempt > 1 && this.lastWasResume;
    if (this.resumeToken && elapsed < RESUME_WINDOW_MS && !resumeHopeless) {
      this.retryTimer = setTimeout(() => {
        this.lastWasResume = true;
        this._connect(`resume=${encodeURIComponent(this.resumeToken)}`);
      }, delay);
    } else {
      this.retryTimer = setTimeout(() => {
        this.lastWasResume = false;
        this.handlers.onResumeFailed?.();
      }, delay);
    }
  }

  /** The page could not get a ticket either (e.g. offline): try again a little later. */
  retry() {
    if (this.finished) return;
    this.lastWasResume = false;
    this._dropped(false);
  }

  /** After the page got a fresh ticket from the join API during a reconnect. */
  reopen(ticket) {
    this._connect(`ticket=${encodeURIComponent(ticket)}`);
  }
}
