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
#define TCP_OPT_LEN_MAX 40 /* data offset 15 words - 20 bytes (RFC 9293 3.1) */

enum {
	TCP_OPTF_MSS = 1 << 0,
	TCP_OPTF_WS = 1 << 1,
	TCP_OPTF_SACK_PERM = 1 << 2,
	TCP_OPTF_TS = 1 << 3,
	TCP_OPTF_SACK = 1 << 4,
	/* information, not an option: a window scale above 14 arrived and was
	 * taken as 14; RFC 7323 2.3 says log it (count it) */
	TCP_OPTF_WS_CAPPED = 1 << 5,
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
 * elsewhere; unknown kinds are skipped by their length (RFC 9293 3.1,
 * RFC 1122 4.2.2.5); EOL ends the list; a repeated option: the last wins.
 * Returns 0, or for a malformed list (RFC 9293 3.1 MUST-7: be prepared for
 * illegal lengths; the caller drops the segment and counts the reason):
 *   -EINVAL    an option length below 2 (0 would loop forever)
 *   -EMSGSIZE  an option, or its length byte, runs past the option area
 *   -EBADMSG   a known kind with the wrong length (MSS 4, WS 3,
 *              SACK-permitted 2, timestamps 10, SACK 2 + 8n with n 1..4)
 *   -E2BIG     more than TCP_OPT_LEN_MAX bytes
 * On error *o holds what parsed before the fault; do not use it. */
int tcp_opt_parse(const uint8_t *opt, size_t len, int syn, struct tcp_opts *o);

/* A short name for a tcp_opt_parse() return value (drop-reason text). */
const char *tcp_opt_strerror(int rc);

/* The options of our SYN-ACK answering a SYN whose options were `syn`:
 * MSS always (RFC 9293 3.7.1); window scale only if the SYN carried one
 * (RFC 7323 2.2), timestamps only if it did (RFC 7323 3.2; TSecr = its
 * TSval), SACK-permitted only if it did (RFC 2018 2) -- each also only if
 * `ours` flags it.  mss, wscale and tsval come from `ours`. */
void tcp_opt_synack(const struct tcp_opts *syn, const struct tcp_opts *ours,
		    struct tcp_opts *out);

/* Options of a SYN or SYN-ACK: MSS, SACK-permitted, timestamps, window scale
 * as flagged in `o`, laid out as Linux does (a SYN-ACK offers only what the
 * SYN did: build `o` with tcp_opt_synack()).  `buf` holds at least 20
 * bytes.  Returns the length written (a multiple of 4, <= 20). */
unsigned int tcp_opt_build_syn(uint8_t *buf, const struct tcp_opts *o);

/* Options of any other segment: timestamps if flagged, then up to
 * o->n_sack SACK blocks (3 with timestamps, 4 without: 40 bytes of room);
 * the first blocks are kept, the most recent first (RFC 2018 4).  `buf`
 * holds TCP_OPT_LEN_MAX bytes.  Returns the length written (a multiple of 4). */
unsigned int tcp_opt_build(uint8_t *buf, const struct tcp_opts *o);

#endif
