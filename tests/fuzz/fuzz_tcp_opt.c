/* libFuzzer: option parsing never overreads (the input sits in a heap buffer
 * of exactly its size, so ASan sees one byte too far); it fails only with
 * the documented codes; whatever parses, rebuilt by our builders, parses
 * back to the same values, field by field, and rebuilds to the same bytes. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_opt.h"

#define SYN_ONLY (TCP_OPTF_MSS | TCP_OPTF_WS | TCP_OPTF_SACK_PERM)

static void same(const struct tcp_opts *o, const struct tcp_opts *p, int syn)
{
	uint8_t f = o->flags & (uint8_t)~TCP_OPTF_WS_CAPPED;

	/* the builders write no SACK blocks on a SYN */
	if (syn)
		f &= (uint8_t)~TCP_OPTF_SACK;
	if (p->flags != f)
		abort();
	if ((f & TCP_OPTF_MSS) && p->mss != o->mss)
		abort();
	if ((f & TCP_OPTF_WS) && p->wscale != o->wscale)
		abort();
	if ((f & TCP_OPTF_TS) && (p->tsval != o->tsval || p->tsecr != o->tsecr))
		abort();
	if (f & TCP_OPTF_SACK) {
		/* 40 bytes in: never more blocks than the builder keeps */
		if (p->n_sack != o->n_sack)
			abort();
		for (unsigned int i = 0; i < o->n_sack; i++)
			if (p->sack[i].start != o->sack[i].start || p->sack[i].end != o->sack[i].end)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1), out[TCP_OPT_LEN_MAX], out2[TCP_OPT_LEN_MAX];
	struct tcp_opts o, p;

	if (!b)
		return 0;
	memcpy(b, data, size);
	for (int syn = 0; syn <= 1; syn++) {
		unsigned int n;
		int rc = tcp_opt_parse(b, size, syn, &o);

		if (rc != 0) {
			if (rc != -EINVAL && rc != -EMSGSIZE && rc != -EBADMSG && rc != -E2BIG)
				abort();
			if ((rc == -E2BIG) != (size > TCP_OPT_LEN_MAX))
				abort();
			continue;
		}
		if (o.n_sack > TCP_SACK_MAX || o.wscale > TCP_WS_MAX ||
		    (!(o.flags & TCP_OPTF_SACK) && o.n_sack))
			abort();
		/* MSS, window scale and SACK-permitted exist only on a SYN */
		if (!syn && (o.flags & (SYN_ONLY | TCP_OPTF_WS_CAPPED)))
			abort();
		n = syn ? tcp_opt_build_syn(out, &o) : tcp_opt_build(out, &o);
		if (n % 4 || n > (syn ? 20u : TCP_OPT_LEN_MAX) || tcp_opt_parse(out, n, syn, &p) != 0)
			abort();
		same(&o, &p, syn);
		/* building from the re-parse gives the same bytes */
		if ((syn ? tcp_opt_build_syn(out2, &p) : tcp_opt_build(out2, &p)) != n ||
		    memcmp(out, out2, n) != 0)
			abort();
		/* a SYN-ACK built against this SYN offers a subset of it */
		if (syn) {
			const struct tcp_opts ours = { .flags = SYN_ONLY | TCP_OPTF_TS, .mss = 1460,
						       .wscale = 7, .tsval = 1 };

			tcp_opt_synack(&o, &ours, &p);
			if ((p.flags & ~TCP_OPTF_MSS & ~o.flags) || !(p.flags & TCP_OPTF_MSS) ||
			    ((p.flags & TCP_OPTF_TS) && p.tsecr != o.tsval))
				abort();
		}
	}
	free(b);
	return 0;
}
