/* Out-of-order reassembly (see tcp_reass.h). */
#include <errno.h>
#include <stddef.h>

#include "tcp_reass.h"
#include "tcp_seq.h"

void tcp_reass_pool_init(struct tcp_reass_pool *p, struct tcp_reass_node *nodes, uint32_t n,
			 uint64_t max_bytes)
{
	p->free = NULL;
	for (uint32_t i = 0; i < n; i++) {
		nodes[i].next = p->free;
		p->free = &nodes[i];
	}
	p->bytes = 0;
	p->max_bytes = max_bytes;
}

static void node_free(struct tcp_reass *q, struct tcp_reass_pool *p, struct tcp_reass_node *n)
{
	q->bytes -= n->len;
	q->nsegs--;
	p->bytes -= n->len;
	n->next = p->free;
	p->free = n;
}

int tcp_reass_insert(struct tcp_reass *q, struct tcp_reass_pool *p, const struct tcp_reass_limits *l,
		     const struct tcp_reass_ops *ops, uint32_t rcv_nxt, uint32_t seq, uint32_t len,
		     void *buf)
{
	struct tcp_reass_node **pp = &q->head, *n;
	uint32_t end = seq + len;

	/* what the receiver already has is not queued again */
	if (seq_leq(end, rcv_nxt) || len == 0)
		return 1;
	if (seq_lt(seq, rcv_nxt)) {
		ops->trim_front(buf, rcv_nxt - seq);
		seq = rcv_nxt;
	}
	/* skip segments wholly before this one */
	while (*pp && seq_leq((*pp)->seq + (*pp)->len, seq))
		pp = &(*pp)->next;
	/* a held segment covering our start wins: trim ours */
	if (*pp && seq_leq((*pp)->seq, seq)) {
		uint32_t held_end = (*pp)->seq + (*pp)->len;

		if (seq_geq(held_end, end))
			return 1; /* wholly inside what we hold */
		ops->trim_front(buf, held_end - seq);
		seq = held_end;
		pp = &(*pp)->next;
	}
	/* held segments wholly inside ours go; one overlapping our end wins */
	while (*pp && seq_lt((*pp)->seq, end)) {
		n = *pp;
		if (seq_leq(n->seq + n->len, end)) {
			*pp = n->next;
			ops->free(n->buf);
			node_free(q, p, n);
			continue;
		}
		ops->trim_back(buf, end - n->seq);
		end = n->seq;
		break;
	}
	len = end - seq;
	if (len == 0)
		return 1;
	if (q->bytes + len > l->max_bytes || q->nsegs + 1 > l->max_segs ||
	    p->bytes + len > p->max_bytes || p->free == NULL)
		return -ENOBUFS;
	n = p->free;
	p->free = n->next;
	n->seq = seq;
	n->len = len;
	n->buf = buf;
	n->next = *pp;
	*pp = n;
	q->bytes += len;
	q->nsegs++;
	p->bytes += len;
	q->last_seq = seq;
	q->last_end = end;
	return 0;
}

uint32_t tcp_reass_pop(struct tcp_reass *q, struct tcp_reass_pool *p, uint32_t *rcv_nxt,
		       void (*deliver)(void *ctx, void *buf, uint32_t len), void *ctx)
{
	uint32_t total = 0;

	while (q->head && q->head->seq == *rcv_nxt) {
		struct tcp_reass_node *n = q->head;

		q->head = n->next;
		*rcv_nxt += n->len;
		total += n->len;
		deliver(ctx, n->buf, n->len);
		node_free(q, p, n);
	}
	return total;
}

unsigned int tcp_reass_sack_blocks(const struct tcp_reass *q, struct tcp_sack_block *out,
				   unsigned int max)
{
	struct tcp_sack_block all[64];
	unsigned int n = 0, k = 0;
	int recent = -1;

	/* contiguous runs of queued segments, in sequence order */
	for (const struct tcp_reass_node *x = q->head; x && n < 64; n++) {
		all[n] = (struct tcp_sack_block){ x->seq, x->seq + x->len };
		while ((x = x->next) && x->seq == all[n].end)
			all[n].end = x->seq + x->len;
		if (seq_leq(all[n].start, q->last_seq) && seq_lt(q->last_seq, all[n].end))
			recent = (int)n;
	}
	/* RFC 2018 4: the block holding the latest segment first, then the rest */
	if (recent >= 0 && k < max)
		out[k++] = all[recent];
	for (unsigned int i = 0; i < n && k < max; i++)
		if ((int)i != recent)
			out[k++] = all[i];
	return k;
}

void tcp_reass_purge(struct tcp_reass *q, struct tcp_reass_pool *p, const struct tcp_reass_ops *ops)
{
	while (q->head) {
		struct tcp_reass_node *n = q->head;

		q->head = n->next;
		ops->free(n->buf);
		node_free(q, p, n);
	}
}
