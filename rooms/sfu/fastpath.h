/* The SFU's per-output forwarding loop in C (see fastpath.c; streams.py drives it).
 *
 * fastpath_build.py hands the parts between "cffi: begin" and "cffi: end" to cffi as they
 * are (what Python sees); of fwd_dest, Python sees only ready, fd and srtp. */
#ifndef ROOMS_FASTPATH_H
#define ROOMS_FASTPATH_H

#include <stdint.h>
#include <sys/socket.h>

/* cffi: begin */
#define FWD_MAX_PACKET 1500 /* largest RTP packet forwarded */
#define FWD_MAX_WRITE 1502  /* what a writer accepts: RTX adds the 2-byte original seq */
#define FWD_TRAILER 160     /* libsrtp's SRTP_MAX_TRAILER_LEN, rounded up */
#define FWD_MAX_EXT 64      /* an output's header extension block, at most */
#define FWD_BATCH 8         /* datagrams queued for one destination before they must go */
#define FWD_MAX_PENDING 512 /* destinations with queued datagrams, at most */
/* cffi: end */

/* Where one subscriber's packets go: a duplicate of its ICE socket, the nominated remote
 * address and the transport's libsrtp tx session. `ready` is 1 only while Python has seen
 * the DTLS transport connected (transport.RtpWriter keeps it up to date).
 *
 * The forwarding loop does not send at once: it builds and protects each datagram in the
 * next free `queue` buffer and fwd_flush sends every destination's queue with one sendmmsg
 * (see fastpath.c). `queued` datagrams wait there; `listed` says the destination is in the
 * list fwd_flush walks. */
typedef struct {
    uint8_t queue[FWD_BATCH][FWD_MAX_WRITE + FWD_TRAILER] __attribute__((aligned(16)));
    int length[FWD_BATCH];
    int queued;
    int listed;
    int ready;
    int fd;
    void *srtp;
    struct sockaddr_storage addr;
    socklen_t addrlen;
} fwd_dest;

/* cffi: begin */
/* The continuity state of one output stream (rewriter.StreamRewriter's fields). */
typedef struct {
    uint16_t last_seq;
    uint32_t last_timestamp;
    uint16_t last_picture_id;
    uint8_t last_tl0picidx;
    int has_time;
    double last_time;
    uint16_t seq_offset;
    uint32_t ts_offset;
    uint16_t picture_id_offset;
    uint16_t picture_id_mask;
    uint8_t tl0_offset;
    uint16_t first_seq;
} fwd_rewriter;

/* One output slot: its header template, its rewriter, its subscriber's destination. */
typedef struct {
    fwd_dest *dest;
    fwd_rewriter *rw;
    uint8_t b0;
    uint8_t payload_type;
    uint32_t ssrc;
    uint8_t ext[FWD_MAX_EXT];
    int ext_len;
    uint8_t level_ext[FWD_MAX_EXT];
    int level_ext_len; /* 0: the slot does not send audio levels */
    int level_at;      /* where the level byte sits in level_ext */
    int ast_at;        /* where the 3 bytes of abs-send-time sit in ext; 0: none */
    uint64_t packets;
    uint64_t octets;
} fwd_out;

/* One received RTP packet as the forwarder needs it (fwd_parse fills it). Offsets are
 * into the datagram; -1 means absent. */
typedef struct {
    int size;
    int payload_start;
    int payload_end;
    int marker;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    int level;
    int keyframe;
    int picture_id;
    int picture_id_bits;
    int picture_id_at;
    int tl0picidx;
    int tl0picidx_at;
    double now;
} fwd_pkt;

void fwd_init(uintptr_t protect_rtp, uintptr_t protect_rtcp, uintptr_t unprotect_rtp,
              uintptr_t unprotect_rtcp);
/* Copy a received SRTP (rtcp 0) or SRTCP (1) datagram of `size` bytes into `buf` (at least
 * FWD_MAX_WRITE + FWD_TRAILER bytes) and unprotect it there with the rx session `srtp`: the
 * plaintext's length, -1 when it is too long or refused (authentication, replay). */
int fwd_unprotect(void *srtp, char *buf, const uint8_t *data, int size, int rtcp);
int fwd_parse(fwd_pkt *p, const uint8_t *data, int size, int is_vp8, int level_ext_id);
/* The 16-bit value of header extension `id` of an RTP packet (a transport-wide sequence
 * number), -1 when absent or malformed. */
int fwd_ext16(const uint8_t *data, int size, int id);
/* Now as abs-send-time (24 bits, seconds in 6.18 fixed point, of the monotonic clock). */
uint32_t fwd_abs_send_time(void);
int fwd_fanout(fwd_out **outs, int count, const fwd_pkt *p, const uint8_t *data,
               uint64_t *octets);
int fwd_send(fwd_dest *d, const uint8_t *packet, int size, int rtcp);
int fwd_flush(void);
int fwd_pending(void);
void fwd_discard(fwd_dest *d);
void fwd_counters(uint64_t *calls, uint64_t *datagrams, uint64_t *dropped, uint64_t *same_size);
uint64_t fwd_gso_datagrams(void);
void fwd_set_gso(int on);
int fwd_gso(void);
int fwd_set_addr(fwd_dest *d, const char *host, const char *port);
int fwd_map(fwd_rewriter *rw, uint16_t seq, uint32_t ts, double now, uint16_t *out_seq,
            uint32_t *out_ts);
uint16_t fwd_map_picture_id(fwd_rewriter *rw, uint16_t picture_id);
uint8_t fwd_map_tl0picidx(fwd_rewriter *rw, uint8_t tl0picidx);
/* cffi: end */

#endif
