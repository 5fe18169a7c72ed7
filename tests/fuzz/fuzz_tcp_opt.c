/* libFuzzer: option parsing never overreads; whatever parses, rebuilt by our
 * builders, parses back to the same values. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_opt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1), out[40];
	struct tcp_opts o, p;

	if (!b)
		return 0;
	memcpy(b, data, size);
	for (int syn = 0; syn <= 1; syn++) {
		unsigned int n;

		if (tcp_opt_parse(b, size, syn, &o) != 0)
			continue;
		if (o.n_sack > TCP_SACK_MAX || o.wscale > TCP_WS_MAX)
			abort();
		n = syn ? tcp_opt_build_syn(out, &o) : tcp_opt_build(out, &o);
		if (n % 4 || n > 40 || tcp_opt_parse(out, n, syn, &p) != 0)
			abort();
		if ((o.flags & TCP_OPTF_TS) && (p.tsval != o.tsval || p.tsecr != o.tsecr))
			abort();
		if (syn && (p.flags & (TCP_OPTF_MSS | TCP_OPTF_WS | TCP_OPTF_SACK_PERM)) !=
				   (o.flags & (TCP_OPTF_MSS | TCP_OPTF_WS | TCP_OPTF_SACK_PERM)))
			abort();
	}
	free(b);
	return 0;
}
