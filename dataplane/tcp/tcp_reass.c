/* Out-of-order reassembly (see tcp_reass.h). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "tcp_reass.h"
#include "tcp_seq.h"

int tcp_reass_pool_init(struct tcp_reass_pool *p, struct tcp_reass_node *nodes, uint32_t n)
{
	if (nodes == NULL && n > 0)
		return -EINVAL;
	p->free = NULL;
	for (uint32_t i = n; i-- > 0;) {
		nodes[i].next = p->free;
		p->free = &nodes[i];
	}
	p->nfree = p->nnodes = n;
	return 0;
}

void tcp_reass_init(struct tcp_reass *q)
{
	memset(q, 0, sizeof(*q));
}

static uint32_t node_end(const struct tcp_reass_node *n)
{
	return n->seq + n->len;
}

/* Return an unlinked node to the pool and take its bytes off every count. */
static void node_release(struct tcp_reass *q, const struct tcp_reass_ctx *c,
			 struct tcp_reass_node *n)
{
	q->bytes -= n->len;
	q->nsegs--;
	if (c->lim->worker_bytes != NULL)
		*c->lim->worker_bytes -= n->len;
	n->next = c->pool->free;
	c->pool->free = n;
	c->pool->nfree++;
}

int tcp_reass_insert(struct tcp_reass *q, const struct tcp_reass_ctx *c, uint32_t rcv_nxt,
		     uint32_t seq, uint32_t len, void *buf)
{
	const struct tcp_reass_limits *l = c->lim;
	struct tcp_reass_node **pp, **at, *n;
	uint32_t end = seq + len, s, e;
	uint32_t freed_bytes = 0, freed_segs = 0;
	uint64_t wb;

	/* sequence comparisons hold only within 2^31 (RFC 9293 3.4) */
	if (len == 0 || len >= 1u << 31 || buf == NULL)
		return -EINVAL;
	if (seq_leq(end, rcv_nxt))
		return -EEXIST; /* delivered already */
	s = seq_max(seq, rcv_nxt);
	e = end;

	/* Plan without touching anything, so a refusal changes nothing. */
	if (q->tail != NULL && seq_geq(s, node_end(q->tail))) {
		at = &q->tail->next; /* the usual case: above everything held */
	} else {
		at = &q->head;
		while (*at != NULL && seq_leq(node_end(*at), s))
			at = &(*at)->next;
		/* held segments covering our start win: start after them (a
		 * loop: held segments may be adjacent, and one that starts
		 * exactly where we now start must win too, or a segment with
		 * nothing new would replace it) */
		while (*at != NULL && seq_leq((*at)->seq, s)) {
			if (seq_geq(node_end(*at), e))
				return -EEXIST;
			s = node_end(*at);
			at = &(*at)->next;
		}
	}
	/* held segments strictly inside [s, e) go; one reaching e or beyond
	 * wins there (no split needed: cut ours at the back) */
	for (pp = at; *pp != NULL && seq_lt((*pp)->seq, e); pp = &(*pp)->next) {
		if (seq_geq(node_end(*pp), e)) {
			e = (*pp)->seq;
			break;
		}
		freed_bytes += (*pp)->len;
		freed_segs++;
	}
	if (!seq_lt(s, e))
		return -EEXIST; /* every byte is held already */

	/* Bounds, counting what this insertion releases.  The per-connection
	 * ones keep one connection from taking the worker's memory (RFC 9293
	 * 3.10.7.4 lets a receiver drop out-of-order data); the worker one
	 * keeps the sum of all queues in the mbuf pool's budget. */
	if ((uint64_t)q->bytes - freed_bytes + (e - s) > l->max_bytes_per_conn ||
	    (uint64_t)q->nsegs - freed_segs + 1 > l->max_segs_per_conn)
		return -ENOBUFS;
	if (l->worker_bytes != NULL) {
		wb = *l->worker_bytes - freed_bytes + (e - s);
		if (wb > l->worker_max)
			return -ENOBUFS;
	}
	if (freed_segs == 0 && c->pool->free == NULL)
		return -ENOBUFS;

	/* Commit. */
	if (s != seq)
		c->ops->trim_front(buf, s - seq);
	if (e != end)
		c->ops->trim_back(buf, end - e);
	while (*at != NULL && seq_lt((*at)->seq, e)) {
		n = *at;
		*at = n->next;
		c->ops->free(n->buf);
		node_release(q, c, n);
	}
	n = c->pool->free;
	c->pool->free = n->next;
	c->pool->nfree--;
	n->seq = s;
	n->len = e - s;
	n->buf = buf;
	n->next = *at;
	*at = n;
	if (n->next == NULL)
		q->tail = n;
	q->bytes += n->len;
	q->nsegs++;
	if (l->worker_bytes != NULL)
		*l->worker_bytes += n->len;
	q->last_seq = s;
	q->last_end = e;
	return 0;
}

uint32_t tcp_reass_pop_ready(struct tcp_reass *q, const struct tcp_reass_ctx *c,
			     uint32_t *rcv_nxt, tcp_reass_deliver_fn cb, void *arg)
{
	uint32_t total = 0;

	while (q->head != NULL && seq_leq(q->head->seq, *rcv_nxt)) {
		struct tcp_reass_node *n = q->head;
		uint32_t end = node_end(n);

		q->head = n->next;
		if (q->head == NULL)
			q->tail = NULL;
		if (seq_gt(end, *rcv_nxt)) {
			uint32_t off = *rcv_nxt - n->seq;

			cb(arg, n->buf, off, n->len - off);
			total += n->len - off;
			*rcv_nxt = end;
		} else {
			c->ops->free(n->buf); /* the in-order segment had it all */
		}
		node_release(q, c, n);
	}
	if (seq_leq(q->last_end, *rcv_nxt))
		q->last_seq = q->last_end; /* delivered: nothing to report */
	return total;
}

unsigned int tcp_reass_blocks(const struct tcp_reass *q, struct tcp_sack_block *out,
			      unsigned int max)
{
	unsigned int k = 0;

	for (const struct tcp_reass_node *n = q->head; n != NULL; n = n->next) {
		if (k > 0 && out[k - 1].end == n->seq) {
			out[k - 1].end = node_end(n);
			continue;
		}
		if (k == max)
			break;
		out[k].start = n->seq;
		out[k].end = node_end(n);
		k++;
	}
	return k;
}

int tcp_reass_last(const struct tcp_reass *q, struct tcp_sack_block *b)
{
	if (q->last_seq == q->last_end)
		return -ENOENT;
	b->start = q->last_seq;
	b->end = q->last_end;
	return 0;
}

void tcp_reass_purge(struct tcp_reass *q, const struct tcp_reass_ctx *c)
{
	while (q->head != NULL) {
		struct tcp_reass_node *n = q->head;

		q->head = n->next;
		c->ops->free(n->buf);
		node_release(q, c, n);
	}
	q->tail = NULL;
	q->last_seq = q->last_end;
}
