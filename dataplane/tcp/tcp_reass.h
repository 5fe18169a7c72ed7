/*
 * Out-of-order reassembly for the zero-copy stack: segments stay in their
 * buffers (mbufs); overlaps are trimmed through callbacks, never copied.
 * Bounded per connection (bytes, segments) and per worker (bytes, nodes).
 *
 * Overlap policy (RFC 9293 3.10.7.4 allows either): data already held wins
 * where a new segment only partly overlaps it; a held segment wholly inside
 * a new one is replaced by it (the bytes are the same, one buffer is freed).
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

/* Per worker: the nodes every connection draws from, and the byte bound. */
struct tcp_reass_pool {
	struct tcp_reass_node *free;
	uint64_t bytes, max_bytes;
};

struct tcp_reass_limits {
	uint32_t max_bytes; /* per connection */
	uint32_t max_segs;
};

struct tcp_reass_ops {
	void (*trim_front)(void *buf, uint32_t n);
	void (*trim_back)(void *buf, uint32_t n);
	void (*free)(void *buf);
};

struct tcp_reass {
	struct tcp_reass_node *head; /* sorted by seq, no overlaps */
	uint32_t bytes, nsegs;
	uint32_t last_seq, last_end; /* the most recently queued data (RFC 2018 4) */
};

void tcp_reass_pool_init(struct tcp_reass_pool *p, struct tcp_reass_node *nodes, uint32_t n,
			 uint64_t max_bytes);

/* Queue [seq, seq+len) held in buf, given the receiver's rcv_nxt.
 * 0: queued (the queue owns buf; it may have been trimmed).
 * 1: nothing new (wholly duplicate): the caller still owns and frees buf.
 * -ENOBUFS: over a bound: the caller owns buf, drops it and counts it. */
int tcp_reass_insert(struct tcp_reass *q, struct tcp_reass_pool *p, const struct tcp_reass_limits *l,
		     const struct tcp_reass_ops *ops, uint32_t rcv_nxt, uint32_t seq, uint32_t len,
		     void *buf);

/* Hand over, in order, every queued segment that now continues *rcv_nxt,
 * advancing it.  Returns the bytes delivered. */
uint32_t tcp_reass_pop(struct tcp_reass *q, struct tcp_reass_pool *p, uint32_t *rcv_nxt,
		       void (*deliver)(void *ctx, void *buf, uint32_t len), void *ctx);

/* The SACK blocks to send (RFC 2018 4): contiguous runs of queued data, the
 * one holding the most recent segment first.  Returns how many (<= max). */
unsigned int tcp_reass_sack_blocks(const struct tcp_reass *q, struct tcp_sack_block *out,
				   unsigned int max);

/* Free everything queued (connection closed or reset). */
void tcp_reass_purge(struct tcp_reass *q, struct tcp_reass_pool *p, const struct tcp_reass_ops *ops);

#endif
