/*
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4): a < b when the
 * signed 32-bit difference is negative, valid while the two are less than
 * 2^31 apart, which every window guarantees.
 */
#ifndef SLUICE_TCP_SEQ_H
#define SLUICE_TCP_SEQ_H

#include <stdint.h>

static inline int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

/* lo <= s < hi, in sequence space (an empty window holds nothing). */
static inline int seq_in(uint32_t s, uint32_t lo, uint32_t hi)
{
	return seq_geq(s, lo) && seq_lt(s, hi);
}

/* RFC 9293 3.10.7.4: is a segment acceptable for the receive window?
 * The four cases of the acceptability test, SEG.LEN and RCV.WND 0 or not. */
static inline int seq_acceptable(uint32_t seg_seq, uint32_t seg_len, uint32_t rcv_nxt,
				 uint32_t rcv_wnd)
{
	if (seg_len == 0)
		return rcv_wnd == 0 ? seg_seq == rcv_nxt : seq_in(seg_seq, rcv_nxt, rcv_nxt + rcv_wnd);
	if (rcv_wnd == 0)
		return 0;
	return seq_in(seg_seq, rcv_nxt, rcv_nxt + rcv_wnd) ||
	       seq_in(seg_seq + seg_len - 1, rcv_nxt, rcv_nxt + rcv_wnd);
}

#endif
