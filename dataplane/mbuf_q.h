/*
 * Byte queues of single-segment mbufs linked through m->next: TCP's send
 * queue and the TLS relay's record queues.  A chain pushed in is split into
 * its segments (each one entry, pkt_len = data_len; empty ones freed), so
 * the queue can be cut and cloned at any segment.
 */
#ifndef SLUICE_MBUF_Q_H
#define SLUICE_MBUF_Q_H

#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

static inline void mbuf_q_push(struct rte_mbuf **head, struct rte_mbuf **tail, uint32_t *bytes,
			       struct rte_mbuf *m)
{
	while (m) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (m->data_len == 0) {
			rte_pktmbuf_free_seg(m);
		} else {
			if (*tail)
				(*tail)->next = m;
			else
				*head = m;
			*tail = m;
			*bytes += m->data_len;
		}
		m = next;
	}
}

/* Free a list of single segments (a queue, or part of one). */
static inline void mbuf_list_free(struct rte_mbuf *m)
{
	while (m) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
}

/* Copy n bytes from offset off of a queue (the caller knows they are there). */
static inline void mbuf_q_copy(const struct rte_mbuf *m, uint32_t off, uint32_t n, uint8_t *dst)
{
	while (m && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (m && n) {
		uint32_t k = m->data_len - off < n ? m->data_len - off : n;

		memcpy(dst, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), k);
		dst += k;
		n -= k;
		off = 0;
		m = m->next;
	}
}

/* Drop n bytes (at most *bytes) off the front of a queue. */
static inline void mbuf_q_drop(struct rte_mbuf **head, struct rte_mbuf **tail, uint32_t *bytes,
			       uint32_t n)
{
	*bytes -= n;
	while (n) {
		struct rte_mbuf *m = *head;

		if (m->data_len > n) {
			rte_pktmbuf_adj(m, (uint16_t)n);
			return;
		}
		n -= m->data_len;
		*head = m->next;
		if (!*head)
			*tail = NULL;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
}

#endif
