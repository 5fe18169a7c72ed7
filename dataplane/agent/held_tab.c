/*
 * Held-SYN table (held_tab.h): chained hash over a fixed entry array, a
 * second small hash counting entries per client address, a FIFO by age.
 */
#include <errno.h>
#include <string.h>

#include "held_tab.h"

static uint32_t pow2_ge(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Layout after the header: entries, buckets, per-source counters, their
 * buckets, the free stack. */
static void layout(uint32_t cap, uint32_t nb, uint32_t off[5], size_t *total)
{
	size_t o = align8(sizeof(struct held_tab));

	off[0] = (uint32_t)o;
	o = align8(o + (size_t)cap * sizeof(struct held_ent));
	off[1] = (uint32_t)o;
	o = align8(o + (size_t)nb * sizeof(uint32_t));
	off[2] = (uint32_t)o;
	o = align8(o + (size_t)cap * sizeof(struct held_src));
	off[3] = (uint32_t)o;
	o = align8(o + (size_t)nb * sizeof(uint32_t));
	off[4] = (uint32_t)o;
	o = align8(o + (size_t)cap * sizeof(uint32_t));
	*total = o;
}

size_t held_tab_memsize(uint32_t cap)
{
	uint32_t off[5];
	size_t total;

	if (cap == 0 || cap > (1u << 24))
		return 0;
	layout(cap, pow2_ge(cap), off, &total);
	return total;
}

#define AT(t, off, type) ((type *)((uint8_t *)(t) + (t)->off))

int held_tab_init(void *mem, uint32_t cap, uint32_t per_source, uint32_t per_vnet)
{
	struct held_tab *t = mem;
	uint32_t off[5], *bucket, *srcb, *fr;
	struct held_src *sc;
	size_t total;

	if (!mem || cap == 0 || cap > (1u << 24) || per_source == 0 || per_vnet == 0)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->nbuckets = pow2_ge(cap);
	layout(cap, t->nbuckets, off, &total);
	memset((uint8_t *)mem + off[0], 0, total - off[0]);
	t->cap = cap;
	t->per_source = per_source;
	t->per_vnet = per_vnet;
	t->ent_off = off[0];
	t->bucket_off = off[1];
	t->src_off = off[2];
	t->srcb_off = off[3];
	t->free_off = off[4];
	t->head = t->tail = HELD_NONE;
	bucket = AT(t, bucket_off, uint32_t);
	srcb = AT(t, srcb_off, uint32_t);
	sc = AT(t, src_off, struct held_src);
	fr = AT(t, free_off, uint32_t);
	for (uint32_t i = 0; i < t->nbuckets; i++)
		bucket[i] = srcb[i] = HELD_NONE;
	for (uint32_t i = 0; i < cap; i++) {
		fr[i] = cap - 1 - i;
		sc[i].hnext = HELD_NONE;
	}
	t->n_free = cap;
	t->magic = HELD_MAGIC;
	return 0;
}

/* A multiplicative hash of the 4-tuple; clients are the attacker's choice,
 * so chains stay short only on average: the table is bounded anyway. */
static uint32_t key_hash(const struct held_key *k)
{
	uint64_t h = ((uint64_t)k->src << 32 | k->dst) * 0x9e3779b97f4a7c15ull;

	h ^= ((uint64_t)k->sport << 16 | k->dport) * 0xc2b2ae3d27d4eb4full;
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

static uint32_t src_hash(uint32_t src)
{
	return (uint32_t)(((uint64_t)src * 0x9e3779b97f4a7c15ull) >> 32);
}

static int key_eq(const struct held_key *a, const struct held_key *b)
{
	return a->src == b->src && a->dst == b->dst && a->sport == b->sport &&
	       a->dport == b->dport;
}

void held_tab_prefetch(const struct held_tab *t, const struct held_key *k)
{
	uint32_t mask = t->nbuckets - 1;

	__builtin_prefetch(AT(t, bucket_off, const uint32_t) + (key_hash(k) & mask));
	__builtin_prefetch(AT(t, srcb_off, const uint32_t) + (src_hash(k->src) & mask));
}

void held_tab_prefetch2(const struct held_tab *t, const struct held_key *k)
{
	uint32_t mask = t->nbuckets - 1;
	uint32_t i = AT(t, bucket_off, const uint32_t)[key_hash(k) & mask];
	uint32_t j = AT(t, srcb_off, const uint32_t)[src_hash(k->src) & mask];

	if (i != HELD_NONE)
		__builtin_prefetch(&held_ents(t)[i]);
	if (j != HELD_NONE)
		__builtin_prefetch(AT(t, src_off, const struct held_src) + j);
}

uint32_t held_tab_find(const struct held_tab *t, const struct held_key *k)
{
	const uint32_t *bucket = AT(t, bucket_off, const uint32_t);
	const struct held_ent *e = held_ents(t);
	uint32_t i = bucket[key_hash(k) & (t->nbuckets - 1)];

	while (i != HELD_NONE && !key_eq(&e[i].k, k))
		i = e[i].hnext;
	return i;
}

/* The per-source counter slot for src, made if absent (there are as many
 * counter slots as entries, so one is always free when an entry is). */
static uint32_t src_slot(struct held_tab *t, uint32_t src, int make)
{
	uint32_t *srcb = AT(t, srcb_off, uint32_t);
	struct held_src *sc = AT(t, src_off, struct held_src);
	uint32_t b = src_hash(src) & (t->nbuckets - 1), i;

	for (i = srcb[b]; i != HELD_NONE; i = sc[i].hnext)
		if (sc[i].src == src && sc[i].count)
			return i;
	if (!make)
		return HELD_NONE;
	/* linear probe for a free counter: the table is bounded and a free
	 * one exists; start at the hash so the scan is short on average */
	for (uint32_t n = 0, j = src_hash(src) % t->cap; n < t->cap; n++, j = (j + 1) % t->cap) {
		if (sc[j].count == 0) {
			sc[j].src = src;
			sc[j].hnext = srcb[b];
			srcb[b] = j;
			return j;
		}
	}
	return HELD_NONE;
}

static void src_put(struct held_tab *t, uint32_t slot)
{
	uint32_t *srcb = AT(t, srcb_off, uint32_t);
	struct held_src *sc = AT(t, src_off, struct held_src);
	uint32_t b, *pp;

	if (--sc[slot].count)
		return;
	b = src_hash(sc[slot].src) & (t->nbuckets - 1);
	for (pp = &srcb[b]; *pp != HELD_NONE; pp = &sc[*pp].hnext)
		if (*pp == slot) {
			*pp = sc[slot].hnext;
			break;
		}
	sc[slot].hnext = HELD_NONE;
}

int held_tab_add(struct held_tab *t, const struct held_key *k, uint16_t vnet, uint16_t agent,
		 uint16_t in_port, uint32_t now_ms, void *pkt, uint32_t *idx, int *why)
{
	uint32_t *bucket = AT(t, bucket_off, uint32_t), *fr = AT(t, free_off, uint32_t);
	struct held_src *sc = AT(t, src_off, struct held_src);
	struct held_ent *e = held_ents(t), *x;
	uint32_t i, s, b;

	/* the caller looked k up already (held_tab_find): not searched again */
	if (t->n_free == 0) {
		*why = HELD_FULL;
		return -ENOSPC;
	}
	if (vnet >= HELD_VNETS_MAX || t->per_vnet_n[vnet] >= t->per_vnet) {
		*why = HELD_FULL_VNET;
		return -ENOSPC;
	}
	s = src_slot(t, k->src, 0);
	if (s != HELD_NONE && sc[s].count >= t->per_source) {
		*why = HELD_FULL_SOURCE;
		return -ENOSPC;
	}
	if (s == HELD_NONE)
		s = src_slot(t, k->src, 1);
	sc[s].count++;
	t->per_vnet_n[vnet]++;
	i = fr[--t->n_free];
	x = &e[i];
	__atomic_store_n(&x->gen, x->gen | 1, __ATOMIC_RELEASE);
	x->k = *k;
	x->vnet = vnet;
	x->agent = agent;
	x->in_port = in_port;
	x->born_ms = now_ms;
	x->pkt = pkt;
	x->retrans = 0;
	x->used = 1;
	x->src_slot = s;
	b = key_hash(k) & (t->nbuckets - 1);
	x->hnext = bucket[b];
	bucket[b] = i;
	/* append: the youngest */
	x->next = HELD_NONE;
	x->prev = t->tail;
	if (t->tail != HELD_NONE)
		e[t->tail].next = i;
	else
		t->head = i;
	t->tail = i;
	t->n++;
	__atomic_store_n(&x->gen, x->gen + 1, __ATOMIC_RELEASE);
	*idx = i;
	return 0;
}

struct held_ent *held_tab_get(struct held_tab *t, uint32_t idx, uint32_t gen)
{
	struct held_ent *x;

	if (idx >= t->cap)
		return NULL;
	x = &held_ents(t)[idx];
	return x->used && x->gen == gen ? x : NULL;
}

void *held_tab_del(struct held_tab *t, uint32_t idx)
{
	uint32_t *bucket = AT(t, bucket_off, uint32_t), *fr = AT(t, free_off, uint32_t);
	struct held_ent *e = held_ents(t), *x;
	uint32_t *pp;
	void *pkt;

	if (idx >= t->cap || !e[idx].used)
		return NULL;
	x = &e[idx];
	__atomic_store_n(&x->gen, x->gen + 1, __ATOMIC_RELEASE); /* odd: changing */
	for (pp = &bucket[key_hash(&x->k) & (t->nbuckets - 1)]; *pp != HELD_NONE;
	     pp = &e[*pp].hnext)
		if (*pp == idx) {
			*pp = x->hnext;
			break;
		}
	if (x->prev != HELD_NONE)
		e[x->prev].next = x->next;
	else
		t->head = x->next;
	if (x->next != HELD_NONE)
		e[x->next].prev = x->prev;
	else
		t->tail = x->prev;
	src_put(t, x->src_slot);
	t->per_vnet_n[x->vnet]--;
	pkt = x->pkt;
	x->pkt = NULL;
	x->used = 0;
	fr[t->n_free++] = idx;
	t->n--;
	__atomic_store_n(&x->gen, x->gen + 1, __ATOMIC_RELEASE); /* even: a new generation */
	return pkt;
}

uint32_t held_tab_expired(const struct held_tab *t, uint32_t now_ms, uint32_t age_ms)
{
	if (t->head == HELD_NONE)
		return HELD_NONE;
	return (uint32_t)(now_ms - held_ents(t)[t->head].born_ms) >= age_ms ? t->head : HELD_NONE;
}
