/* The SFU's forwarding hot path: one received packet to every output slot carrying it.
 *
 * Python keeps every decision (selection, switching, NACK, RTCP); this file does only the
 * work repeated per packet and per output, which the profile showed dominated by the
 * interpreter: write the output header from the slot's template, copy the payload, renumber
 * the VP8 picture id / TL0PICIDX, protect with libsrtp in place and queue it for one
 * sendmmsg per destination (fwd_flush). The rules are the
 * same as the Python reference implementations it is tested against (rtp_header.parse_rtp,
 * rtp_header.read_audio_level, vp8.parse_vp8, rewriter.StreamRewriter).
 *
 * libsrtp is pylibsrtp's own copy (the sessions are aiortc's): fwd_init receives the
 * addresses of its srtp_protect / srtp_protect_rtcp (transport.py). Single-threaded: called from
 * the worker's event loop only. */
#define _GNU_SOURCE /* sendmmsg */
#include "fastpath.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <time.h>

typedef int (*fwd_protect_fn)(void *ctx, void *packet, int *length);

static fwd_protect_fn protect_rtp = NULL;
static fwd_protect_fn protect_rtcp = NULL;
static fwd_protect_fn unprotect_rtp = NULL;
static fwd_protect_fn unprotect_rtcp = NULL;

void fwd_init(uintptr_t rtp, uintptr_t rtcp, uintptr_t rtp_in, uintptr_t rtcp_in) {
    protect_rtp = (fwd_protect_fn)rtp;
    protect_rtcp = (fwd_protect_fn)rtcp;
    unprotect_rtp = (fwd_protect_fn)rtp_in;
    unprotect_rtcp = (fwd_protect_fn)rtcp_in;
}

/* The receive path's copy and unprotect in one call (transport.SrtpReader): in Python they
 * were a slice assignment into the buffer, the libsrtp call and two reads of the length. */
int fwd_unprotect(void *srtp, char *buf, const uint8_t *data, int size, int rtcp) {
    fwd_protect_fn unprotect = rtcp ? unprotect_rtcp : unprotect_rtp;
    if (unprotect == NULL || srtp == NULL || size < 0 || size > FWD_MAX_WRITE + FWD_TRAILER)
        return -1;
    memcpy(buf, data, (size_t)size);
    int length = size;
    if (unprotect(srtp, buf, &length) != 0) return -1;
    return length;
}

static void put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get16(const uint8_t *p) { return ((uint32_t)p[0] << 8) | p[1]; }

static uint32_t get32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Where the data of header extension `id` starts (its length in *len), -1 when absent: the
 * one-byte (RFC 8285 4.2) and two-byte (4.3) forms (rtp_header.find_extension). */
static int find_ext(const uint8_t *data, int size, int profile, int start, int end, int id,
                    int *len) {
    int pos = start;
    if (id <= 0 || start == end) return -1;
    if (profile == 0xBEDE) {
        while (pos < end) {
            int b = data[pos];
            if (b == 0) {
                pos++;
                continue;
            }
            int x_id = b >> 4, x_len = (b & 0x0F) + 1;
            if (x_id == 15) return -1;
            if (x_id == id) {
                if (pos + 1 + x_len > size) return -1;
                *len = x_len;
                return pos + 1;
            }
            pos += 1 + x_len;
        }
        return -1;
    }
    if ((profile & 0xFFF0) == 0x1000) {
        while (pos + 1 < end) {
            int x_id = data[pos];
            if (x_id == 0) {
                pos++;
                continue;
            }
            int x_len = data[pos + 1];
            if (x_id == id) {
                if (x_len == 0 || pos + 2 + x_len > size) return -1;
                *len = x_len;
                return pos + 2;
            }
            pos += 2 + x_len;
        }
    }
    return -1;
}

/* RFC 6464 level (0..127) of extension `id`, -1 when absent (rtp_header.read_audio_level). */
static int audio_level(const uint8_t *data, int size, int profile, int start, int end, int id) {
    int len = 0, at = find_ext(data, size, profile, start, end, id, &len);
    return at < 0 ? -1 : data[at] & 0x7F;
}

int fwd_ext16(const uint8_t *data, int size, int id) {
    if (size < 12 || data[0] >> 6 != 2 || !(data[0] & 0x10)) return -1;
    int pos = 12 + 4 * (data[0] & 0x0F);
    if (pos + 4 > size) return -1;
    int profile = (int)get16(data + pos), start = pos + 4;
    int end = start + 4 * (int)get16(data + pos + 2);
    if (end > size) return -1;
    int len = 0, at = find_ext(data, size, profile, start, end, id, &len);
    return at < 0 || len < 2 ? -1 : (int)get16(data + at);
}

/* The VP8 payload descriptor (RFC 7741 4.2; vp8.parse_vp8). 0, or -1 when malformed. */
static int parse_vp8(fwd_pkt *p, const uint8_t *payload, int n) {
    if (n < 1) return -1;
    int b0 = payload[0], pos = 1;
    if (b0 & 0x80) {
        if (n < 2) return -1;
        int x = payload[1];
        pos = 2;
        if (x & 0x80) {
            if (pos >= n) return -1;
            p->picture_id_at = pos;
            if (payload[pos] & 0x80) {
                if (pos + 1 >= n) return -1;
                p->picture_id = ((payload[pos] & 0x7F) << 8) | payload[pos + 1];
                p->picture_id_bits = 15;
                pos += 2;
            } else {
                p->picture_id = payload[pos] & 0x7F;
                p->picture_id_bits = 7;
                pos += 1;
            }
        }
        if (x & 0x40) {
            if (pos >= n) return -1;
            p->tl0picidx = payload[pos];
            p->tl0picidx_at = pos;
            pos += 1;
        }
        if (x & 0x30) pos += 1;
    }
    if (pos > n) return -1;
    p->keyframe = (b0 & 0x10) && (b0 & 0x07) == 0 && pos < n && (payload[pos] & 0x01) == 0;
    return 0;
}

int fwd_parse(fwd_pkt *p, const uint8_t *data, int size, int is_vp8, int level_ext_id) {
    p->level = p->picture_id = p->picture_id_at = p->tl0picidx = p->tl0picidx_at = -1;
    p->picture_id_bits = 0;
    p->keyframe = 0;
    if (size < 12) return -1;
    int b0 = data[0];
    if (b0 >> 6 != 2) return -1;
    int pos = 12 + 4 * (b0 & 0x0F), profile = 0, ext_start = pos, ext_end = pos;
    if (b0 & 0x10) {
        if (pos + 4 > size) return -1;
        profile = (int)get16(data + pos);
        ext_start = pos + 4;
        ext_end = ext_start + 4 * (int)get16(data + pos + 2);
        pos = ext_end;
    }
    int end = size;
    if (b0 & 0x20) {
        if (data[size - 1] == 0) return -1;
        end -= data[size - 1];
    }
    if (pos > end) return -1;
    p->size = size;
    p->marker = data[1] >> 7;
    p->seq = (uint16_t)get16(data + 2);
    p->ts = get32(data + 4);
    p->ssrc = get32(data + 8);
    p->payload_start = pos;
    p->payload_end = end;
    p->level = audio_level(data, size, profile, ext_start, ext_end, level_ext_id);
    if (is_vp8 && parse_vp8(p, data + pos, end - pos) < 0) return -2;
    return 0;
}

int fwd_map(fwd_rewriter *rw, uint16_t seq, uint32_t ts, double now, uint16_t *out_seq,
            uint32_t *out_ts) {
    if (((seq - rw->first_seq) & 0xFFFF) >= 0x8000) return -1; /* predates the switch */
    *out_seq = (uint16_t)(seq + rw->seq_offset);
    *out_ts = ts + rw->ts_offset;
    uint16_t ahead = (uint16_t)(*out_seq - rw->last_seq);
    if (ahead > 0 && ahead < 0x8000) {
        rw->last_seq = *out_seq;
        rw->last_timestamp = *out_ts;
        rw->last_time = now;
        rw->has_time = 1;
    }
    return 0;
}

uint16_t fwd_map_picture_id(fwd_rewriter *rw, uint16_t picture_id) {
    uint16_t mask = rw->picture_id_mask;
    uint16_t out = (uint16_t)((picture_id + rw->picture_id_offset) & mask);
    if (((out - rw->last_picture_id) & mask) <= (mask >> 1)) rw->last_picture_id = out;
    return out;
}

uint8_t fwd_map_tl0picidx(fwd_rewriter *rw, uint8_t tl0picidx) {
    uint8_t out = (uint8_t)(tl0picidx + rw->tl0_offset);
    if (((out - rw->last_tl0picidx) & 0xFF) < 0x80) rw->last_tl0picidx = out;
    return out;
}

uint32_t fwd_abs_send_time(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t fraction = ((uint64_t)t.tv_nsec << 18) / 1000000000u;
    return (uint32_t)((((uint64_t)t.tv_sec << 18) | fraction) & 0xFFFFFF);
}

/* Write the output packet of `o` for `p` into `out`; returns its length, 0 when the slot
 * does not forward it (it predates the switch, or is too large). Moves the rewriter.
 * `ast`: the abs-send-time a video slot that negotiated it stamps (the receiver's REMB
 * estimator then times the SFU's sends, not the publisher's capture clock). */
static int build(fwd_out *o, const fwd_pkt *p, const uint8_t *data, uint8_t *out,
                 uint32_t ast) {
    fwd_rewriter *rw = o->rw;
    int with_level = p->level >= 0 && o->level_ext_len > 0;
    int ext_len = with_level ? o->level_ext_len : o->ext_len;
    int at = 12 + ext_len, size = p->payload_end - p->payload_start, end = at + size;
    if (size < 0 || end > FWD_MAX_PACKET) return 0; /* dropped before it moves the stream */
    uint16_t out_seq;
    uint32_t out_ts;
    if (fwd_map(rw, p->seq, p->ts, p->now, &out_seq, &out_ts) < 0) return 0;
    out[0] = with_level ? 0x90 : o->b0;
    out[1] = (uint8_t)((p->marker << 7) | o->payload_type);
    put16(out + 2, out_seq);
    put32(out + 4, out_ts);
    put32(out + 8, o->ssrc);
    if (with_level) {
        memcpy(out + 12, o->level_ext, (size_t)ext_len);
        out[12 + o->level_at] = (uint8_t)p->level;
    } else if (ext_len) {
        memcpy(out + 12, o->ext, (size_t)ext_len);
        if (o->ast_at > 0 && o->ast_at + 3 <= ext_len) {
            uint8_t *b = out + 12 + o->ast_at;
            b[0] = (uint8_t)(ast >> 16);
            b[1] = (uint8_t)(ast >> 8);
            b[2] = (uint8_t)ast;
        }
    }
    memcpy(out + at, data + p->payload_start, (size_t)size);
    if (p->picture_id >= 0) {
        uint16_t id = fwd_map_picture_id(rw, (uint16_t)p->picture_id);
        uint8_t *b = out + at + p->picture_id_at;
        if (p->picture_id_bits == 15) {
            b[0] = (uint8_t)(0x80 | ((id >> 8) & 0x7F));
            b[1] = (uint8_t)id;
        } else {
            b[0] = (uint8_t)(id & 0x7F);
        }
    }
    if (p->tl0picidx >= 0) {
        out[at + p->tl0picidx_at] = fwd_map_tl0picidx(rw, (uint8_t)p->tl0picidx);
    }
    return end;
}

/* Sending: a queue per destination, one sendmmsg per destination and flush.
 *
 * Each subscriber has a socket of its own (its ICE socket: the source address its browser
 * checked), so one received packet's fan-out goes to as many sockets as subscribers and
 * cannot share a system call. What can: the datagrams for one subscriber that arrive while
 * the event loop handles one batch of readable sockets. fwd_fanout protects each datagram in
 * place in its destination's queue; the worker calls fwd_flush once the loop has handled
 * that batch (transport.SendBatch), which sends each queue with one sendmmsg. A queue that fills
 * up (FWD_BATCH) is sent at once. The busier the worker, the more a batch holds; an idle one
 * sends each datagram on its own, as before, a loop iteration later.
 *
 * UDP GSO (UDP_SEGMENT, Linux 4.18+): a run of datagrams of one length in a queue (a
 * publisher's frame is cut into packets of one size, but its last one) goes as one message
 * that the kernel cuts at that length, the last datagram of the run may be shorter: the
 * network stack is walked once for the run instead of once per datagram. Runs happen when a
 * queue holds several packets of one stream, i.e. when the worker is busy; a fan-out alone
 * makes none (its datagrams go to different destinations). If the kernel refuses it, GSO is
 * switched off for the process and the queue is sent without. */

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#define FWD_GSO_MAX 64 /* segments per GSO message (the kernel's UDP_MAX_SEGMENTS) */

static fwd_dest *pending[FWD_MAX_PENDING];
static int npending = 0;
static struct mmsghdr msgs[FWD_BATCH];
static struct iovec iovs[FWD_BATCH];
static int msg_datagrams[FWD_BATCH];
static union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
} controls[FWD_BATCH];
static int use_gso = 1;
static uint64_t count_calls = 0, count_datagrams = 0, count_dropped = 0, count_same_size = 0;
static uint64_t count_gso_datagrams = 0;

void fwd_counters(uint64_t *calls, uint64_t *datagrams, uint64_t *dropped, uint64_t *same_size) {
    *calls = count_calls;
    *datagrams = count_datagrams;
    *dropped = count_dropped;
    *same_size = count_same_size;
}

uint64_t fwd_gso_datagrams(void) { return count_gso_datagrams; }

void fwd_set_gso(int on) { use_gso = on; }

int fwd_gso(void) { return use_gso; }

/* Lay d's queue out as messages, runs of one length merged when `gso`; how many. */
static int lay_out(fwd_dest *d, int n, int gso) {
    int m = 0;
    for (int i = 0; i < n;) {
        int j = i + 1, size = d->length[i];
        if (gso) {
            while (j < n && j - i < FWD_GSO_MAX && d->length[j] == size) j++;
            if (j < n && j - i < FWD_GSO_MAX && j - i > 1 && d->length[j] < size) j++;
        }
        struct msghdr *h = &msgs[m].msg_hdr;
        memset(h, 0, sizeof *h);
        h->msg_name = &d->addr;
        h->msg_namelen = d->addrlen;
        h->msg_iov = &iovs[i];
        h->msg_iovlen = (size_t)(j - i);
        for (int k = i; k < j; k++) {
            iovs[k].iov_base = d->queue[k];
            iovs[k].iov_len = (size_t)d->length[k];
        }
        if (j - i > 1) {
            h->msg_control = controls[m].buf;
            h->msg_controllen = sizeof controls[m].buf;
            struct cmsghdr *c = CMSG_FIRSTHDR(h);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t segment = (uint16_t)size;
            memcpy(CMSG_DATA(c), &segment, sizeof segment);
        }
        msg_datagrams[m++] = j - i;
        i = j;
    }
    return m;
}

/* Send d's queue; datagrams put on the wire. A full socket buffer drops the rest of the
 * queue (UDP media semantics); another error drops the message it names. */
static int send_queue(fwd_dest *d) {
    int n = d->queued, total = n, sent = 0;
    d->queued = 0;
    if (n == 0) return 0;
    if (!d->ready || d->fd < 0) {
        count_dropped += (uint64_t)n;
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if (d->length[i] == d->length[i - 1]) count_same_size++;
    }
    int gso = use_gso;
    int m = lay_out(d, n, gso);
    int at = 0;
    while (at < m) {
        int r = sendmmsg(d->fd, msgs + at, (unsigned int)(m - at), MSG_DONTWAIT);
        count_calls++;
        if (r > 0) {
            for (int k = at; k < at + r; k++) {
                sent += msg_datagrams[k];
                if (msg_datagrams[k] > 1) count_gso_datagrams += (uint64_t)msg_datagrams[k];
            }
            at += r;
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) break;
        if (r < 0 && gso && msg_datagrams[at] > 1) {
            /* The kernel (or this socket) does not take GSO: never again here. Lay the
             * rest of the queue out without it and go on. */
            use_gso = gso = 0;
            int first = 0;
            for (int k = 0; k < at; k++) first += msg_datagrams[k];
            for (int k = first; k < n; k++) {
                memmove(d->queue[k - first], d->queue[k], (size_t)d->length[k]);
                d->length[k - first] = d->length[k];
            }
            n -= first;
            m = lay_out(d, n, 0);
            at = 0;
            continue;
        }
        at++; /* this message cannot be sent: drop it, try the rest */
    }
    count_datagrams += (uint64_t)sent;
    count_dropped += (uint64_t)(total - sent);
    return sent;
}

int fwd_flush(void) {
    int sent = 0;
    /* send_queue never lists a destination, so the list cannot grow under this loop. */
    for (int i = 0; i < npending; i++) {
        fwd_dest *d = pending[i];
        if (d == NULL) continue;
        d->listed = 0;
        sent += send_queue(d);
    }
    npending = 0;
    return sent;
}

int fwd_pending(void) { return npending; }

void fwd_discard(fwd_dest *d) {
    count_dropped += (uint64_t)d->queued;
    d->queued = 0;
    if (!d->listed) return;
    d->listed = 0;
    for (int i = 0; i < npending; i++) {
        if (pending[i] == d) pending[i] = NULL;
    }
}

/* The next free buffer of d's queue, sending the queue first when it is full. */
static uint8_t *next_buffer(fwd_dest *d) {
    if (d->queued == FWD_BATCH) send_queue(d);
    return d->queue[d->queued];
}

/* Protect the datagram just written into d's next buffer and queue it; its length on the
 * wire, 0 when it is not sent (the destination is not ready, or protection failed). */
static int enqueue(fwd_dest *d, int length, int rtcp) {
    fwd_protect_fn protect = rtcp ? protect_rtcp : protect_rtp;
    if (!d->ready || protect == NULL || d->srtp == NULL) return 0;
    uint8_t *buf = d->queue[d->queued];
    if (protect(d->srtp, buf, &length) != 0) return 0;
    if (!d->listed) {
        if (npending == FWD_MAX_PENDING) fwd_flush();
        pending[npending++] = d;
        d->listed = 1;
    }
    d->length[d->queued++] = length;
    return length;
}

int fwd_fanout(fwd_out **outs, int count, const fwd_pkt *p, const uint8_t *data,
               uint64_t *octets) {
    int packets = 0;
    uint32_t ast = fwd_abs_send_time();
    for (int i = 0; i < count; i++) {
        fwd_out *o = outs[i];
        int length = build(o, p, data, next_buffer(o->dest), ast);
        if (length == 0) continue;
        int queued = enqueue(o->dest, length, 0);
        if (queued == 0) continue;
        o->packets += 1;
        o->octets += (uint64_t)(p->payload_end - p->payload_start);
        *octets += (uint64_t)queued;
        packets += 1;
    }
    return packets;
}

/* One packet outside the forwarding loop (RTCP, a retransmission): sent now, after what
 * is queued for d, so the destination sees its datagrams in the order they were made. */
int fwd_send(fwd_dest *d, const uint8_t *packet, int size, int rtcp) {
    if (size < 0 || size > FWD_MAX_WRITE) return 0;
    memcpy(next_buffer(d), packet, (size_t)size);
    int length = enqueue(d, size, rtcp);
    if (length == 0) return 0;
    int n = d->queued; /* a full socket buffer drops the tail: this one went if all did */
    return send_queue(d) == n ? length : 0;
}

/* The numeric address (IPv4 or IPv6, no lookup) packets go to; 0 on success. */
int fwd_set_addr(fwd_dest *d, const char *host, const char *port) {
    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &found) != 0 || found == NULL) return -1;
    if (found->ai_addrlen > sizeof d->addr) {
        freeaddrinfo(found);
        return -1;
    }
    memcpy(&d->addr, found->ai_addr, found->ai_addrlen);
    d->addrlen = found->ai_addrlen;
    freeaddrinfo(found);
    return 0;
}
