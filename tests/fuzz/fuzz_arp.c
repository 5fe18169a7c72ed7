/* libFuzzer: ARP parsing never overreads; what parses re-encodes identically. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/drop_reasons.h>
#include "l2/arp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	struct arp_info a;

	if (!b)
		return 0;
	memcpy(b, data, size);
	if (arp_parse(b, size, &a) == SL_DROP_MAX) {
		uint8_t out[ARP_LEN];
		arp_build(out, &a);
		if (memcmp(out, b, ARP_LEN) != 0)
			abort();
	}
	free(b);
	return 0;
}
