// Media with the SFU (rooms/media_control.py, rooms/sfu/peer.py): one RTCPeerConnection, and the
// browser always offers. sendonly m-lines publish (one audio, one camera, one screen named in
// `screen_mids`); recvonly m-lines are receive slots whose source the SFU names in
// {"type": "media.slots"}: {mid: {participant_id, kind: "audio" | "camera" | "screen"} | null}.
// The SFU's answer puts a person's audio and camera slots in one MediaStream (a=msid
// "person-<id>"; a screen is "screen-<id>"), so the browser keeps them in lip sync; when a slot
// changes owner it asks for a new offer (media.renegotiate) and the track moves to the new
// owner's stream (a new "track" event). aiortc has no ICE restart: a failed connection is
// rebuilt.

const ICE_GATHER_TIMEOUT_MS = 3000;
const RETRY_MS = 2000;
// The SFU answers in well under a second; an offer still unanswered after this was lost (a
// worker restart, a dropped message) and is made again instead of waiting for ever.
const ANSWER_TIMEOUT_MS = 10000;
// A move to another SFU worker waits this long for the new connection before it lets go of
// the old one.
const MOVE_TIMEOUT_MS = 10000;

function waitForIceGathering(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener("icegatheringstatechange", check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

// Camera simulcast: the camera is published in up to three layers (RTP stream ids, lowest
// first, the order the SFU takes them in: a quarter, half and full size), each at least this
// many pixels high.
const LAYER_RIDS = { 4: "l", 2: "m", 1: "h" };
const MIN_LAYER_HEIGHT = 90;
// Chromium encodes no more layers than its table allows for the capture's pixel count (three
// from 960x540, two from 480x270, else one) and drops the encodings past that from the top: a
// 640x480 camera asked for three layers sent 160x120 and 320x240 and never its full size,
// however much bandwidth it had. So a camera below 960x540 gets two layers: its full size and
// a quarter of it. Not the half: the lowest layer is what a thumbnail, and anyone whose
// downlink is short, falls back to; at 320x240 (about 180 kbit/s) two of them no longer fit a
// 250 kbit/s estimate, and the call showed no video at all until the estimate recovered (seen
// in the browser tests on a loaded machine, for more than 20 s); at 160x120 (about 50 kbit/s)
// they do.
const LAYERS_BY_PIXELS = [
  [960 * 540, [4, 2, 1]],
  [480 * 270, [4, 1]],
];
// How often the size each receive slot is shown at is looked at ({"type": "media.tiles"},
// sent only when it changed): the SFU picks each slot's layer from it.
const TILE_POLL_MS = 500;
const MAX_TILE_SIDE = 8192;

/** The simulcast layers a camera track can be sent in, or null for a single stream. */
export function cameraEncodings(track) {
  const { width = 0, height = 0 } = track?.getSettings?.() || {};
  const layers = LAYERS_BY_PIXELS.find(([pixels]) => width * height >= pixels)?.[1] || [1];
  const scales = layers.filter((scale) => height / scale >= MIN_LAYER_HEIGHT);
  if (scales.length < 2) return null;
  return scales.map((scale) => ({ rid: LAYER_RIDS[scale], scaleResolutionDownBy: scale }));
}

// Screen share simulcast: downscaling makes text unreadable, so both layers keep the full
// resolution and differ in frame rate and bitrate. The low layer (few frames a second, a
// modest bitrate) is what every viewer can always have, and a thumbnail layer would leave
// those viewers with unreadable text. The top layer adds the frames for the presenter's
// large tile (scrolling, a pointer). Chromium sends a layer above the first only once its
// send estimate covers the first one's maximum and the next one's minimum (600 kbit/s at
// 1280x720) with room to spare: with the low layer at 500 kbit/s, Chromium 156 never started
// the top one, 1.65 Mbit/s available or not (two runs of 45 s); at 250 kbit/s (libwebrtc's own
// figure for a share's base layer is 200) it did within 3 s of having that estimate.
// With the "text" content hint the browser gives up frames, never resolution, when bits are
// short. The SFU gives a tile shown at least half the share's size the top layer.
const SCREEN_CONTENT_HINT = "text";
// "high" priority (a sender's is its first encoding's; Chromium refuses it on the others): of
// the bitrate the SFU grants (one REMB for camera and screen), the share gets the larger part:
// its text matters more than the presenter's face.
const SCREEN_LAYERS = [
  { rid: "l", scaleResolutionDownBy: 1, maxFramerate: 5, maxBitrate: 250_000, priority: "high" },
  { rid: "h", scaleResolutionDownBy: 1, maxFramerate: 15, maxBitrate: 2_500_000 },
];
// A screen (or window) smaller than this on its short side is sent as one stream: it is cheap
// enough at the top layer's frame rate for everyone.
const MIN_SCREEN_LAYERS_SIDE = 360;

/** The layers a screen share track is sent in, or null for a single stream. */
export function screenEncodings(track) {
  const settings = track?.getSettings?.() || {};
  const side = Math.min(settings.width || 0, settings.height || 0);
  if (side < MIN_SCREEN_LAYERS_SIDE) return null;
  return SCREEN_LAYERS.map((layer) => ({ ...layer }));
}

/** A transceiver that sends a screen share: in layers that suit text, VP8 only. */
function addScreenTransceiver(pc, track) {
  if ("contentHint" in track) track.contentHint = SCREEN_CONTENT_HINT;
  const sendEncodings = screenEncodings(track);
  let tx = null;
  if (sendEncodings) {
    try {
      tx = pc.addTransceiver(track, { direction: "sendonly", sendEncodings });
    } catch (error) {
      // A browser that cannot send these layers sends the share as one stream.
      console.warn("screen share layers refused, sending one stream", error);
    }
  }
  tx ??= pc.addTransceiver(track, { direction: "sendonly" });
  preferVp8(tx);
  return tx;
}

// The SFU forwards VP8 only: offer nothing else for video.
/** The lines of a description that say what it negotiates (for a warning, not the whole SDP). */
function describeSdp(description) {
  if (!description) return "(none)";
  const wanted = /^(m=|a=group:|a=mid:|a=(sendonly|recvonly|sendrecv|inactive)$)/;
  return description.sdp
    .split(/\r?\n/)
    .filter((line) => wanted.test(line))
    .join(" ");
}

function preferVp8(transceiver) {
  if (!transceiver.setCodecPreferences || !window.RTCRtpReceiver?.getCapabilities) return;
  const caps = RTCRtpReceiver.getCapabilities("video");
  const vp8 = (caps?.codecs || []).filter((c) => c.mimeType.toLowerCase() === "video/vp8");
  if (vp8.length) transceiver.setCodecPreferences(vp8);
}

export class MediaSession {
  /**
   * @param {{send: (msg: object) => boolean, iceServers?: RTCIceServer[],
   *          onRemoteTrack: (mid: string, track: MediaStreamTrack) => void,
   *          onState?: (state: string) => void, onReset?: () => void}} options
   */
  constructor({ send, iceServers = [], onRemoteTrack, onState, onReset, tiles = null }) {
    this.send = send;
    this.iceServers = iceServers;
    this.onRemoteTrack = onRemoteTrack;
    this.onState = onState;
    this.onReset = onReset;
    // The element whose <video>s show the receive slots (their sizes go to the SFU).
    this.tilesRoot = tiles;
    this.tileTimer = 0;
    this.sentTiles = "";
    this.pc = null;
    this.local = null;
    this.screenTrack = null;
    this.screenTx = null;
    this.audioTx = null;
    this.videoTx = null;
    this.recvAudio = [];
    this.recvVideo = [];
    // mid -> the MediaStream the SFU's last answer put that receive slot in.
    this.remoteStreams = new Map();
    this.wantAudio = 0;
    this.wantVideo = 0;
    this.negotiating = false;
    this.pendingOffer = false;
    this.retryTimer = 0;
    this.answerTimer = 0;
    // Each offer carries an id the server echoes in its answer or error: a reply to an
    // earlier offer (after a timeout, a rebuild) is recognised and ignored.
    this.offerSeq = 0;
    this.offerId = null;
    this.closed = false;
    this.prevStats = null;
    // performance.now() of the first offer, answer and connection (the first-frame metric).
    this.timings = {};
  }

  /** Publish `localStream` (may be null) and receive into the given number of slots. */
  start(localStream, { audioSlots = 0, videoSlots = 0 } = {}) {
    this.local = localStream;
    this.wantAudio = audioSlots;
    this.wantVideo = videoSlots;
    this._build();
    if (this.tilesRoot && !this.tileTimer) {
      this.tileTimer = setInterval(() => this.reportTiles(), TILE_POLL_MS);
    }
    return this.offer();
  }

  /**
   * Fresh TURN credentials ({"type": "turn.credentials"} or a new snapshot): every connection
   * built from now on uses them, and the current one gets them where the browser can take
   * them (an allocation it already has lives on; the expiry only bounds new ones).
   */
  setIceServers(iceServers) {
    this.iceServers = iceServers;
    const pc = this.pc;
    if (!pc || typeof pc.setConfiguration !== "function") return;
    try {
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
    } catch (error) {
      console.warn("could not update the ICE servers", error);
    }
  }

  /** A brand-new connection (aiortc cannot restart ICE). */
  restart() {
    if (this.closed) return Promise.resolve();
    // The browser and the SFU may both report the same failure: rebuild once.
    const now = performance.now();
    if (this.lastRestart && now - this.lastRestart < 2000) return Promise.resolve();
    this.lastRestart = now;
    this._build();
    return this.offer();
  }

  /**
   * The room moved to another SFU worker ({"type": "media.state", "state": "moving"}): make
   * before break. The new connection is negotiated while the old one keeps playing; its
   * tracks are handed over (and the old connection closed) once it is connected.
   */
  move() {
    if (this.closed || !this.pc) return Promise.resolve();
    if (!this.moving) this.moving = { old: this.pc, tracks: [] };
    this._build({ keepOld: true });
    clearTimeout(this.moveTimer);
    // Should the new connection never come up, stop waiting for it; a failure rebuilds it.
    this.moveTimer = setTimeout(() => this._moved(), MOVE_TIMEOUT_MS);
    return this.offer();
  }

  _moved() {
    const moving = this.moving;
    if (!moving) return;
    this.moving = null;
    clearTimeout(this.moveTimer);
    this.onReset?.({ moved: true });
    for (const [mid, track] of moving.tracks) this.onRemoteTrack(mid, track);
    if (moving.old !== this.pc) moving.old.close();
  }

  close() {
    this.closed = true;
    clearInterval(this.tileTimer);
    clearTimeout(this.moveTimer);
    if (this.moving && this.moving.old !== this.pc) this.moving.old.close();
    this.moving = null;
    clearTimeout(this.retryTimer);
    clearTimeout(this.answerTimer);
    if (this.pc) this.pc.close();
    this.pc = null;
    if (this.screenTrack) this.screenTrack.stop();
  }

  _build({ keepOld = false } = {}) {
    if (this.pc && !keepOld) this.pc.close();
    if (!keepOld && this.moving) {
      // A rebuild in the middle of a move: the old connection goes too.
      if (this.moving.old !== this.pc) this.moving.old.close();
      this.moving = null;
    }
    clearTimeout(this.retryTimer);
    clearTimeout(this.answerTimer);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
    this.pc = pc;
    this.negotiating = false;
    this.pendingOffer = false;
    this.recvAudio = [];
    this.recvVideo = [];
    this.prevStats = null;
    this.sentTiles = "";
    if (!keepOld) {
      this.remoteStreams.clear();
      this.onReset?.();
    }
    pc.addEventListener("track", (event) => {
      if (pc !== this.pc) return;
      if (event.streams[0]) this.remoteStreams.set(event.transceiver.mid, event.streams[0]);
      if (this.moving) this.moving.tracks.push([event.transceiver.mid, event.track]);
      else this.onRemoteTrack(event.transceiver.mid, event.track);
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc !== this.pc) return;
      if (pc.connectionState === "connected" && this.moving) this._moved();
      if (pc.connectionState === "connected") this.timings.connected ??= performance.now();
      this.onState?.(pc.connectionState);
    });
    const audio = this.local?.getAudioTracks()[0];
    const video = this.local?.getVideoTracks()[0];
    this.audioTx = audio ? pc.addTransceiver(audio, { direction: "sendonly" }) : null;
    const sendEncodings = cameraEncodings(video);
    this.videoTx = video
      ? pc.addTransceiver(video, sendEncodings ? { direction: "sendonly", sendEncodings } : { direction: "sendonly" })
      : null;
    if (this.videoTx) preferVp8(this.videoTx);
    this.screenTx = this.screenTrack ? addScreenTransceiver(pc, this.screenTrack) : null;
    this._addSlots();
  }

  _addSlots() {
    const pc = this.pc;
    // Someone alone with no camera or microphone still offers one audio slot: an offer with
    // no media at all is refused by the browser (max-bundle needs a BUNDLE group), retried
    // forever, and the SFU, never reached, could not ask for slots once others join.
    const wantAudio = this.audioTx || this.videoTx || this.screenTx ? this.wantAudio : Math.max(1, this.wantAudio);
    while (this.recvAudio.length < wantAudio) {
      this.recvAudio.push(pc.addTransceiver("audio", { direction: "recvonly" }));
    }
    while (this.recvVideo.length < this.wantVideo) {
      const tx = pc.addTransceiver("video", { direction: "recvonly" });
      preferVp8(tx);
      this.recvVideo.push(tx);
    }
  }

  async offer() {
    const pc = this.pc;
    if (!pc || this.closed) return;
    if (this.negotiating) {
      this.pendingOffer = true;
      return;
    }
    this.negotiating = true;
    this.timings.offerStarted ??= performance.now();
    try {
      await pc.setLocalDescription(await pc.createOffer());
      // aiortc takes no trickled candidates before its answer: send them all in the offer.
      await waitForIceGathering(pc, ICE_GATHER_TIMEOUT_MS);
      if (pc !== this.pc) return;
      const screenMids = this.screenTx?.mid ? [this.screenTx.mid] : [];
      this.timings.offerSent ??= performance.now();
      this.offerSeq += 1;
      this.offerId = `${Date.now().toString(36)}-${this.offerSeq}`;
      const sent = this.send({
        type: "media.offer",
        sdp: pc.localDescription.sdp,
        screen_mids: screenMids,
        offer_id: this.offerId,
      });
      if (!sent) {
        this._failed();
        return;
      }
      clearTimeout(this.answerTimer);
      this.answerTimer = setTimeout(() => {
        if (pc === this.pc && this.negotiating && pc.signalingState === "have-local-offer") {
          console.warn("no answer to the media offer: offering again");
          this._failed();
        }
      }, ANSWER_TIMEOUT_MS);
    } catch (error) {
      // The browser could not make an offer on this connection: what it holds is not
      // something another offer on it will fix, so the retry starts a new connection (the
      // SFU replaces the old one when the new one offers).
      console.warn(
        "media offer failed",
        error,
        `local: ${describeSdp(pc.currentLocalDescription)}`,
        `remote: ${describeSdp(pc.currentRemoteDescription)}`,
      );
      this._failed({ rebuild: true });
    }
  }

  async handleAnswer(sdp, offerId) {
    const pc = this.pc;
    if (!pc || pc.signalingState !== "have-local-offer") return;
    if (offerId && offerId !== this.offerId) return; // the answer to an earlier offer
    clearTimeout(this.answerTimer); // it must not fire while the answer is being applied
    try {
      await pc.setRemoteDescription({ type: "answer", sdp });
    } catch (error) {
      console.warn("bad media answer", error);
      this._failed();
      return;
    }
    this.timings.answered ??= performance.now();
    this.negotiating = false;
    if (this.pendingOffer) {
      this.pendingOffer = false;
      await this.offer();
    }
  }

  /** The SFU refused or could not take our offer: roll back and offer again shortly. */
  async _failed({ rebuild = false } = {}) {
    const pc = this.pc;
    clearTimeout(this.answerTimer);
    this.negotiating = false;
    if (pc && pc.signalingState === "have-local-offer") {
      try {
        await pc.setLocalDescription({ type: "rollback" });
      } catch {
        /* a closed connection cannot roll back; the retry rebuilds it */
      }
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.closed) return;
      if (rebuild && this.pc === pc) {
        // Closing the old connection makes the SFU report it failed: that is this rebuild.
        this.lastRestart = performance.now();
        this._build();
        this.offer();
      } else if (!this.pc || this.pc.connectionState === "failed" || this.pc.connectionState === "closed") {
        this.restart();
      } else {
        this.offer();
      }
    }, RETRY_MS);
  }

  /** Answer to an error the server sent about media (e.g. media_unavailable). */
  negotiationFailed(offerId) {
    if (offerId && offerId !== this.offerId) return; // about an earlier offer
    if (this.negotiating) this._failed();
  }

  /** {"type": "media.renegotiate", audio_slots, video_slots} */
  renegotiate(audioSlots, videoSlots) {
    this.wantAudio = Math.max(this.wantAudio, audioSlots);
    this.wantVideo = Math.max(this.wantVideo, videoSlots);
    if (!this.pc) return;
    this._addSlots();
    this.offer();
  }

  setMicEnabled(enabled) {
    for (const track of this.local?.getAudioTracks() || []) track.enabled = enabled;
  }

  setCameraEnabled(enabled) {
    for (const track of this.local?.getVideoTracks() || []) track.enabled = enabled;
  }

  async startScreen(track) {
    this.screenTrack = track;
    if (this.screenTx) {
      // The m-line of an earlier share is reused: it keeps the layers it was negotiated with.
      if ("contentHint" in track) track.contentHint = SCREEN_CONTENT_HINT;
      this.screenTx.direction = "sendonly";
      await this.screenTx.sender.replaceTrack(track);
    } else if (this.pc) {
      this.screenTx = addScreenTransceiver(this.pc, track);
    }
    await this.offer();
  }

  /**
   * The m-line stays (m-lines are never removed) but goes inactive in a new offer: the SFU
   * drops the share at once and every viewer's screen slot empties ({"type": "media.slots"}),
   * instead of freezing on the last frame. `offer` false: the caller offers itself (after a
   * refused offer, the retry carries it).
   */
  async stopScreen({ offer = true } = {}) {
    if (this.screenTrack) this.screenTrack.stop();
    this.screenTrack = null;
    if (!this.screenTx) return;
    await this.screenTx.sender.replaceTrack(null);
    if (this.screenTx.direction !== "inactive") {
      this.screenTx.direction = "inactive";
      if (offer) await this.offer();
    }
  }

  /**
   * For each remote person, the ids of the streams their audio and camera slots are in
   * (tests read it to check that a person's tracks share one stream). `slots`: the
   * {"type": "media.slots"} map.
   */
  streamsByPerson(slots) {
    const out = {};
    for (const [mid, owner] of Object.entries(slots || {})) {
      const stream = this.remoteStreams.get(mid);
      if (!owner || owner.kind === "screen" || !stream) continue;
      const entry = (out[owner.participant_id] ??= { kinds: [], streams: [] });
      entry.kinds.push(owner.kind);
      if (!entry.streams.includes(stream.id)) entry.streams.push(stream.id);
      entry.tracks = stream.getTracks().map((t) => t.kind).sort();
    }
    return out;
  }

  /**
   * Tell the SFU the size (device pixels) each video receive slot is shown at: the largest
   * <video> under the tiles element that plays the slot's track, [0, 0] for a slot shown
   * nowhere. Sent when it changed.
   */
  reportTiles() {
    if (!this.pc || !this.tilesRoot || this.closed) return;
    const midByTrack = new Map();
    for (const tx of this.recvVideo) {
      if (tx.mid && tx.receiver.track) midByTrack.set(tx.receiver.track.id, tx.mid);
    }
    if (!midByTrack.size) return;
    const tiles = {};
    for (const mid of midByTrack.values()) tiles[mid] = [0, 0];
    const ratio = window.devicePixelRatio || 1;
    for (const video of this.tilesRoot.querySelectorAll("video")) {
      const track = video.srcObject?.getVideoTracks?.()[0];
      const mid = track && midByTrack.get(track.id);
      if (!mid) continue;
      const size = tiles[mid];
      size[0] = Math.min(MAX_TILE_SIDE, Math.max(size[0], Math.round(video.clientWidth * ratio)));
      size[1] = Math.min(MAX_TILE_SIDE, Math.max(size[1], Math.round(video.clientHeight * ratio)));
    }
    const key = JSON.stringify(tiles);
    if (key === this.sentTiles) return;
    if (this.send({ type: "media.tiles", tiles })) this.sentTiles = key;
  }

  /** Connection quality from getStats: round-trip time and inbound packet loss. */
  async quality() {
    if (!this.pc) return { level: "unknown" };
    const report = await this.pc.getStats();
    let rtt = null;
    let lost = 0;
    let received = 0;
    report.forEach((r) => {
      if (r.type === "candidate-pair" && r.state === "succeeded" && r.nominated) {
        if (typeof r.currentRoundTripTime === "number") rtt = r.currentRoundTripTime;
      }
      if (r.type === "inbound-rtp") {
        lost += Math.max(0, r.packetsLost || 0);
        received += r.packetsReceived || 0;
      }
    });
    const prev = this.prevStats;
    this.prevStats = { lost, received };
    let loss = 0;
    if (prev) {
      const dLost = lost - prev.lost;
      const dReceived = received - prev.received;
      loss = dLost + dReceived > 0 ? Math.max(0, dLost) / (dLost + dReceived) : 0;
    }
    if (rtt === null && received === 0) return { level: "unknown", rtt, loss };
    let level = "good";
    if (loss > 0.08 || (rtt ?? 0) > 0.4) level = "poor";
    else if (loss > 0.02 || (rtt ?? 0) > 0.2) level = "fair";
    return { level, rtt, loss };
  }

  /** Frames decoded per receive slot mid (tests and the first-frame metric read this). */
  async framesDecoded() {
    const out = {};
    if (!this.pc) return out;
    const report = await this.pc.getStats();
    report.forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") out[r.mid] = r.framesDecoded || 0;
    });
    return out;
  }
}
