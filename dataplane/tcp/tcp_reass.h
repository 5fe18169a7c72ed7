/*
 * Out-of-order reassembly for the zero-copy stack.  Pure logic: segments
 * stay in the caller's buffers (mbufs, behind an opaque `void *`); overlaps
 * are cut through trim callbacks, payload is never copied.
 *
 * Per connection: a list of (seq, len, buf) kept in sequence order, with no
 * two entries overlapping, bounded in bytes and entries.  Per worker: the
 * nodes come from a fixed pool the caller hands over at start-up (no
 * allocation on the hot path), and a byte counter shared by the worker's
 * connections bounds the total.  A segment over any bound is refused with
 * -ENOBUFS (the caller drops it and counts it; the peer retransmits).
 *
 * Overlap policy.  RFC 9293 3.10.7.4 lets a receiver keep either copy of
 * bytes it receives twice.  Here data already held wins: a new segment
 * overlapping held data at its front or back (or touching both ends of a
 * held one) is trimmed to the new bytes.  The one exception: a held segment
 * lying strictly inside the new one, with new bytes on both sides, is
 * released and the new segment kept whole -- the bytes are the same (else
 * the peer is broken), and keeping held data there would mean splitting the
 * new buffer in two, i.e. cloning it.  A new segment
 * containing nothing new is refused with -EEXIST and left untouched (the
 * caller frees it, and may report it as a D-SACK, RFC 2883).
 *
 * The in-order path does not come through here: a segment at RCV.NXT is
 * delivered by the caller, which then calls tcp_reass_pop_ready() to hand
 * over what the queue now continues.  Window checks (RFC 9293 3.10.7.4
 * acceptability, trimming to RCV.WND) are the caller's too.
 */
#ifndef SLUICE_TCP_REASS_H
#define SLUICE_TCP_REASS_H

#include <stdint.h>

#include "tcp_opt.h" /* struct tcp_sack_block */

struct tcp_reass_node {
	struct tcp_reass_node *next;
	uint32_t seq, len;
	void *buf;
};

/* Per worker: the free nodes every connection draws from. */
struct tcp_reass_pool {
	struct tcp_reass_node *free;
	uint32_t nfree, nnodes;
};

struct tcp_reass_limits {
	uint32_t max_bytes_per_conn, max_segs_per_conn;
	uint64_t *worker_bytes; /* bytes queued by all of this worker's
				   connections; NULL: no worker bound */
	uint64_t worker_max;
};

/* How to cut and release a buffer, without copying (rte_pktmbuf_adj,
 * rte_pktmbuf_trim, rte_pktmbuf_free for mbufs). */
struct tcp_reass_ops {
	void (*trim_front)(void *buf, uint32_t n);
	void (*trim_back)(void *buf, uint32_t n);
	void (*free)(void *buf);
};

/* What a worker shares between its connections' queues. */
struct tcp_reass_ctx {
	struct tcp_reass_pool *pool;
	const struct tcp_reass_limits *lim;
	const struct tcp_reass_ops *ops;
};

/* Per connection: 32 bytes when idle. */
struct tcp_reass {
	struct tcp_reass_node *head, *tail; /* ascending, disjoint */
	uint32_t bytes, nsegs;
	uint32_t last_seq, last_end;        /* the most recently queued data;
					       equal: none (cleared once delivered) */
};

/* Give the pool n caller-owned nodes.  -EINVAL if nodes is NULL and n > 0. */
int tcp_reass_pool_init(struct tcp_reass_pool *p, struct tcp_reass_node *nodes, uint32_t n);

void tcp_reass_init(struct tcp_reass *q);

/* Queue [seq, seq+len) held in buf, RCV.NXT being rcv_nxt.  Bytes below
 * rcv_nxt or already held are trimmed away first (see the policy above).
 *   0         queued: the queue owns buf (it may have been trimmed)
 *   -EEXIST   nothing new in it: buf untouched, still the caller's
 *   -ENOBUFS  over a per-connection, per-worker or pool bound: buf
 *             untouched, still the caller's, nothing changed
 *   -EINVAL   len 0 or 2^31 or more, or buf NULL */
int tcp_reass_insert(struct tcp_reass *q, const struct tcp_reass_ctx *c, uint32_t rcv_nxt,
		     uint32_t seq, uint32_t len, void *buf);

/* Receives one buffer in order; owns it from here.  The payload to deliver
 * is `len` bytes starting `off` bytes into buf: cut `off` at the front
 * (data that an in-order segment has already delivered) and keep `len`. */
typedef void (*tcp_reass_deliver_fn)(void *arg, void *buf, uint32_t off, uint32_t len);

/* Hand over, in order, every queued segment that continues *rcv_nxt and
 * advance it; segments wholly below *rcv_nxt (covered by what the caller
 * delivered itself) are freed.  Returns the bytes handed over. */
uint32_t tcp_reass_pop_ready(struct tcp_reass *q, const struct tcp_reass_ctx *c,
			     uint32_t *rcv_nxt, tcp_reass_deliver_fn cb, void *arg);

/* The queue as blocks for SACK generation (tcp_sack_rcv_build()): runs of
 * contiguous segments, ascending, at most max (the lowest ones).  Returns
 * how many were written. */
unsigned int tcp_reass_blocks(const struct tcp_reass *q, struct tcp_sack_block *out,
			      unsigned int max);

/* The most recently queued range (the part of the last accepted segment
 * that was new), while it is still queued: 0, or -ENOENT. */
int tcp_reass_last(const struct tcp_reass *q, struct tcp_sack_block *b);

/* Free everything queued (connection closed or reset, or the receiver
 * reneges under memory pressure, RFC 2018 8). */
void tcp_reass_purge(struct tcp_reass *q, const struct tcp_reass_ctx *c);

static inline int tcp_reass_empty(const struct tcp_reass *q)
{
	return q->head == 0;
}

#endif
