/* RFC 6298 RTO estimator (see tcp_rtt.h). */
#include <errno.h>

#include "tcp_rtt.h"

const struct tcp_rtt_params tcp_rtt_default = {
	.min_us = 200000,
	.max_us = 60000000,
	.initial_us = 1000000,
	.granularity_us = 1000,
};

static uint32_t clamp(uint64_t v, const struct tcp_rtt_params *p)
{
	if (v < p->min_us)
		return p->min_us;
	if (v > p->max_us)
		return p->max_us;
	return (uint32_t)v;
}

static void recompute(struct tcp_rtt *r, const struct tcp_rtt_params *p)
{
	/* 2.2/2.3: RTO = SRTT + max(G, K*RTTVAR) */
	uint64_t var = 4ull * r->rttvar_us;

	if (var < p->granularity_us)
		var = p->granularity_us;
	r->rto_us = clamp((uint64_t)r->srtt_us + var, p);
}

int tcp_rtt_params_check(const struct tcp_rtt_params *p)
{
	if (p->min_us == 0 || p->granularity_us == 0 || p->min_us > p->max_us)
		return -EINVAL;
	if (p->initial_us < p->min_us || p->initial_us > p->max_us)
		return -EINVAL;
	return 0;
}

void tcp_rtt_init(struct tcp_rtt *r, const struct tcp_rtt_params *p)
{
	r->srtt_us = 0;
	r->rttvar_us = 0;
	r->backoff = 0;
	r->rto_us = clamp(p->initial_us, p);
}

void tcp_rtt_sample(struct tcp_rtt *r, const struct tcp_rtt_params *p, uint32_t rtt_us)
{
	if (rtt_us == 0)
		rtt_us = 1; /* a zero sample would read as "no sample yet" */
	if (r->srtt_us == 0) {
		/* 2.2: first measurement */
		r->srtt_us = rtt_us;
		r->rttvar_us = rtt_us / 2;
	} else {
		/* 2.3: RTTVAR first (it uses the old SRTT), then SRTT */
		uint32_t err = r->srtt_us > rtt_us ? r->srtt_us - rtt_us : rtt_us - r->srtt_us;

		r->rttvar_us = r->rttvar_us - r->rttvar_us / 4 + err / 4;
		r->srtt_us = r->srtt_us - r->srtt_us / 8 + rtt_us / 8;
	}
	/* 5.7: a new sample ends any backoff */
	r->backoff = 0;
	recompute(r, p);
}

void tcp_rtt_backoff(struct tcp_rtt *r, const struct tcp_rtt_params *p)
{
	/* 5.5: RTO <- RTO * 2, bounded by the maximum (2.5) */
	if (r->backoff < 32)
		r->backoff++;
	r->rto_us = clamp(2ull * r->rto_us, p);
}

void tcp_rtt_syn_lost(struct tcp_rtt *r, const struct tcp_rtt_params *p)
{
	if (r->srtt_us)
		return;
	r->backoff = 0;
	r->rto_us = clamp(3000000, p);
}
