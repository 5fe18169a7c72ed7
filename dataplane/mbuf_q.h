/*
 * Byte queues of single-segment mbufs linked through m->next: TCP's send
 * queue and the TLS relay's record queues.  A chain pushed in is split into
 * its segments (each one entry, pkt_len = data_len; empty ones freed), so
 * the queue can be cut and cloned at any segment.
 */
#ifndef SLUICE_MBUF_Q_H
#define SLUICE_MBUF_Q_H

#include <stdint.h>

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

#endif
