/*
 * Impairment: seeded random drop, duplication and reordering per port and
 * direction, because the test kernel has no netem.  Pure logic over opaque
 * packet pointers; the worker passes mbufs and its free/copy callbacks.
 */
#ifndef SLUICE_IMPAIR_H
#define SLUICE_IMPAIR_H

#include <stdint.h>
#include <sluice/shm.h>

enum impair_verdict { IMPAIR_PASS, IMPAIR_DROP, IMPAIR_DUP, IMPAIR_HOLD };

struct impair_dir_state {
	/* probability p is stored as p * 2^32 and compared with a 32-bit draw */
	uint64_t drop_thr, reorder_thr, dup_thr;
	void *held;          /* packet held back for reordering */
	uint64_t held_since; /* caller's clock */
};

struct impair_ops {
	void (*drop)(void *ctx, void *pkt);  /* count and free */
	void *(*copy)(void *ctx, void *pkt); /* NULL when no buffer: dup skipped */
};

static inline uint32_t impair_rand(uint64_t *s)
{
	/* xorshift64* (Vigna): fast, fine statistically for loss injection */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

/* A seed of 0 would stick xorshift at 0: map it to a fixed odd constant. */
static inline uint64_t impair_seed(uint64_t seed)
{
	return seed ? seed : 0x9E3779B97F4A7C15ull;
}

uint64_t impair_ppm_to_thr(uint32_t ppm);
void impair_dir_set(struct impair_dir_state *st, const struct sl_impair_dir *cfg);
int impair_dir_active(const struct impair_dir_state *st);
enum impair_verdict impair_decide(uint64_t *rng, const struct impair_dir_state *st);

/* Apply verdicts to pkts[0..n), writing survivors in order to out[] (room for
 * 2n + 1).  A held packet leaves right after the next packet that passes. */
unsigned int impair_apply(struct impair_dir_state *st, uint64_t *rng, uint64_t now,
			  void **pkts, unsigned int n, void **out,
			  const struct impair_ops *ops, void *ctx);

/* The held packet if it has waited at least `timeout` (so a quiet flow is
 * delayed, never stalled), else NULL. */
void *impair_release_held(struct impair_dir_state *st, uint64_t now, uint64_t timeout);

#endif
