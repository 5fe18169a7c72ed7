/*
 * Held SYNs of one worker (S4): SYNs toward servers behind agents, kept
 * unanswered until the agent says what the real server did.  Pure code: no
 * DPDK, no allocation (the caller gives the memory), unit-tested.
 *
 * Bounded three ways, each refusal told apart: in total, per client address
 * and per vnet.  Entries are keyed by the 4-tuple (the client address names
 * the vnet); every entry has a generation so a late answer for a reused
 * slot is recognised.  Entries expire in the order they were made (one
 * timeout for all), so the oldest is always at the head of a FIFO list and
 * expiry costs O(1) per loop.
 *
 * The table lives in a memzone that sluice-cp reads for `show held`: an
 * entry is read as a copy whose `gen` is even and unchanged afterwards.
 */
#ifndef SLUICE_HELD_TAB_H
#define SLUICE_HELD_TAB_H

#include <stddef.h>
#include <stdint.h>

#define HELD_NONE UINT32_MAX

struct held_key {
	uint32_t src, dst;      /* host order */
	uint16_t sport, dport;
};

struct held_ent {
	uint32_t gen;           /* odd while the slot changes hands */
	uint8_t used;
	uint8_t retrans;        /* retransmitted SYNs absorbed */
	uint16_t vnet, agent;
	uint16_t in_port;
	uint32_t born_ms;
	struct held_key k;
	void *pkt;              /* the SYN (an mbuf), owned by the table's user */
	/* private */
	uint32_t hnext;         /* hash chain */
	uint32_t prev, next;    /* FIFO by age */
	uint32_t src_slot;      /* its client's per-source counter */
};

struct held_src {
	uint32_t src;
	uint32_t count;         /* 0 = free */
	uint32_t hnext;
};

enum held_err {
	HELD_FULL = 1,          /* the table */
	HELD_FULL_SOURCE,       /* this client's share */
	HELD_FULL_VNET,         /* this vnet's share */
};

#define HELD_VNETS_MAX 16

struct held_tab {
	uint32_t magic;
	uint32_t cap, n;
	uint32_t per_source, per_vnet;
	uint32_t nbuckets;      /* power of two */
	uint32_t head, tail;    /* FIFO: oldest first */
	uint32_t n_free;
	uint32_t per_vnet_n[HELD_VNETS_MAX];
	/* offsets from the table's own address (sluice-cp maps it elsewhere) */
	uint32_t ent_off, bucket_off, src_off, srcb_off, free_off;
	uint32_t now_ms;        /* the owner's clock (born_ms's), for readers' ages */
};

#define HELD_MAGIC 0x484c4454u /* "HLDT" */

static inline struct held_ent *held_ents(const struct held_tab *t)
{
	return (struct held_ent *)((uint8_t *)t + t->ent_off);
}

/* Bytes for a table of `cap` entries (header included). */
size_t held_tab_memsize(uint32_t cap);
/* Lay a table out in mem (held_tab_memsize(cap) bytes, 8-aligned).  0 or -EINVAL. */
int held_tab_init(void *mem, uint32_t cap, uint32_t per_source, uint32_t per_vnet);

/* Hold a SYN for k, which the caller found not held (held_tab_find: the
 * hold path looks once, not twice).  0 with *idx; -ENOSPC with *why =
 * enum held_err. */
int held_tab_add(struct held_tab *t, const struct held_key *k, uint16_t vnet, uint16_t agent,
		 uint16_t in_port, uint32_t now_ms, void *pkt, uint32_t *idx, int *why);
/* The entry at idx if it is in use with generation gen, else NULL. */
struct held_ent *held_tab_get(struct held_tab *t, uint32_t idx, uint32_t gen);
/* The entry held for k, or HELD_NONE. */
uint32_t held_tab_find(const struct held_tab *t, const struct held_key *k);
/* Start fetching what held_tab_find and held_tab_add will read for k, in
 * two stages a burst runs over all its SYNs in turn, so the misses overlap
 * instead of queueing: stage 1 the key's bucket and its client's counter
 * bucket; stage 2 (those are in cache by then) the first entry and counter
 * they name. */
void held_tab_prefetch(const struct held_tab *t, const struct held_key *k);
void held_tab_prefetch2(const struct held_tab *t, const struct held_key *k);
/* Free the entry; returns its pkt (the caller disposes of it). */
void *held_tab_del(struct held_tab *t, uint32_t idx);
/* The oldest entry if it was made at least `age_ms` before now, else HELD_NONE. */
uint32_t held_tab_expired(const struct held_tab *t, uint32_t now_ms, uint32_t age_ms);

#endif
