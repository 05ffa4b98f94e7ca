"""cffi build script of ``rooms.sfu._fastpath`` (fastpath.c), run by ``pip install``
through setup.py's ``cffi_modules`` (``make venv`` reinstalls when the C changes).

Only what Python touches is declared here; cffi's ``...`` leaves the rest of a struct's
layout to the C compiler (fastpath.h is the one definition)."""

from cffi import FFI

ffibuilder = FFI()
ffibuilder.cdef(
    """
    #define FWD_MAX_PACKET 1500
    #define FWD_MAX_WRITE 1502
    #define FWD_MAX_EXT 64

    typedef struct { int ready; int fd; void *srtp; ...; } fwd_dest;
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
    typedef struct {
        fwd_dest *dest;
        fwd_rewriter *rw;
        uint8_t b0;
        uint8_t payload_type;
        uint32_t ssrc;
        uint8_t ext[64];
        int ext_len;
        uint8_t level_ext[64];
        int level_ext_len;
        int level_at;
        uint64_t packets;
        uint64_t octets;
    } fwd_out;
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

    void fwd_init(uintptr_t protect_rtp, uintptr_t protect_rtcp);
    int fwd_parse(fwd_pkt *p, const uint8_t *data, int size, int is_vp8, int level_ext_id);
    int fwd_fanout(fwd_out **outs, int count, const fwd_pkt *p, const uint8_t *data,
                   uint64_t *octets);
    int fwd_build(fwd_out *o, const fwd_pkt *p, const uint8_t *data, uint8_t *out);
    int fwd_send(fwd_dest *d, const uint8_t *packet, int size, int rtcp);
    int fwd_set_addr(fwd_dest *d, const char *host, const char *port);
    int fwd_map(fwd_rewriter *rw, uint16_t seq, uint32_t ts, double now, uint16_t *out_seq,
            uint32_t *out_ts);
    uint16_t fwd_map_picture_id(fwd_rewriter *rw, uint16_t picture_id);
    uint8_t fwd_map_tl0picidx(fwd_rewriter *rw, uint8_t tl0picidx);
    """
)
ffibuilder.set_source(
    "rooms.sfu._fastpath",
    '#include "fastpath.h"',
    # Relative to the project root: pip builds from there.
    sources=["rooms/sfu/fastpath.c"],
    include_dirs=["rooms/sfu"],
    depends=["rooms/sfu/fastpath.h"],
    extra_compile_args=["-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
)
