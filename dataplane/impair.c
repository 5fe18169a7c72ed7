/* Impairment decisions and burst rewriting (see impair.h). */
#include "impair.h"

uint64_t impair_ppm_to_thr(uint32_t ppm)
{
	if (ppm >= 1000000)
		return 1ull << 32; /* every 32-bit draw is below: always */
	return ((uint64_t)ppm << 32) / 1000000u;
}

void impair_dir_set(struct impair_dir_state *st, const struct sl_impair_dir *cfg)
{
	st->drop_thr = impair_ppm_to_thr(cfg->drop_ppm);
	st->reorder_thr = impair_ppm_to_thr(cfg->reorder_ppm);
	st->dup_thr = impair_ppm_to_thr(cfg->dup_ppm);
}

int impair_dir_active(const struct impair_dir_state *st)
{
	return st->drop_thr || st->reorder_thr || st->dup_thr || st->held;
}

enum impair_verdict impair_decide(uint64_t *rng, const struct impair_dir_state *st)
{
	if (st->drop_thr && impair_rand(rng) < st->drop_thr)
		return IMPAIR_DROP;
	if (st->dup_thr && impair_rand(rng) < st->dup_thr)
		return IMPAIR_DUP;
	if (st->reorder_thr && impair_rand(rng) < st->reorder_thr)
		return IMPAIR_HOLD;
	return IMPAIR_PASS;
}

unsigned int impair_apply(struct impair_dir_state *st, uint64_t *rng, uint64_t now,
			  void **pkts, unsigned int n, void **out,
			  const struct impair_ops *ops, void *ctx)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		void *p = pkts[i];
		void *dup;

		switch (impair_decide(rng, st)) {
		case IMPAIR_DROP:
			ops->drop(ctx, p);
			continue;
		case IMPAIR_HOLD:
			if (!st->held) {
				st->held = p;
				st->held_since = now;
				continue;
			}
			break; /* one slot: a second candidate just passes */
		case IMPAIR_DUP:
			dup = ops->copy(ctx, p);
			if (dup)
				out[k++] = dup;
			break;
		case IMPAIR_PASS:
			break;
		}
		out[k++] = p;
		if (st->held) {
			out[k++] = st->held;
			st->held = NULL;
		}
	}
	return k;
}

void *impair_release_held(struct impair_dir_state *st, uint64_t now, uint64_t timeout)
{
	void *p = st->held;

	if (!p || now - st->held_since < timeout)
		return NULL;
	st->held = NULL;
	return p;
}
