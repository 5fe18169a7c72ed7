/*
 * TCP options (RFC 9293 3.2, RFC 7323, RFC 2018): parse what a peer sent,
 * build what we send.  Pure; fuzzed.
 */
#ifndef SLUICE_TCP_OPT_H
#define SLUICE_TCP_OPT_H

#include <stddef.h>
#include <stdint.h>

#define TCP_OPT_EOL       0
#define TCP_OPT_NOP       1
#define TCP_OPT_MSS       2
#define TCP_OPT_WS        3
#define TCP_OPT_SACK_PERM 4
#define TCP_OPT_SACK      5
#define TCP_OPT_TS        8

#define TCP_WS_MAX 14 /* RFC 7323 2.3 */
#define TCP_SACK_MAX 4

enum {
	TCP_OPTF_MSS = 1 << 0,
	TCP_OPTF_WS = 1 << 1,
	TCP_OPTF_SACK_PERM = 1 << 2,
	TCP_OPTF_TS = 1 << 3,
	TCP_OPTF_SACK = 1 << 4,
};

struct tcp_sack_block {
	uint32_t start, end; /* [start, end) in sequence space */
};

struct tcp_opts {
	uint8_t flags;       /* TCP_OPTF_* present */
	uint8_t wscale;
	uint16_t mss;
	uint32_t tsval, tsecr;
	uint8_t n_sack;
	struct tcp_sack_block sack[TCP_SACK_MAX];
};

/* Parse `len` option bytes.  MSS, window scale and SACK-permitted count only
 * on a SYN (RFC 9293 3.7.1, RFC 7323 2.2, RFC 2018 2) and are ignored
 * elsewhere.  0, or -EINVAL for a malformed list (the segment is dropped). */
int tcp_opt_parse(const uint8_t *opt, size_t len, int syn, struct tcp_opts *o);

/* Options of a SYN or SYN-ACK: MSS, SACK-permitted, timestamps, window scale
 * as flagged in `o` (a SYN-ACK offers only what the SYN did: the caller
 * clears the rest).  Returns the length written (a multiple of 4, <= 20). */
unsigned int tcp_opt_build_syn(uint8_t *buf, const struct tcp_opts *o);

/* Options of any other segment: timestamps if flagged, then up to
 * o->n_sack SACK blocks (3 with timestamps, 4 without: 40 bytes of room).
 * Returns the length written (a multiple of 4). */
unsigned int tcp_opt_build(uint8_t *buf, const struct tcp_opts *o);

#endif
