/* libFuzzer: IPv4 header validation must never read past `len` or crash,
 * and whatever it accepts must be self-consistent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ip/ipv4_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* copy to an exact-size heap buffer so ASan sees any overread */
	uint8_t *b = malloc(size ? size : 1);

	if (!b)
		return 0;
	memcpy(b, data, size);
	if (ipv4_check(b, size) == SL_DROP_MAX) {
		const struct ipv4_hdr_raw *ip = (const void *)b;
		unsigned int hlen = (ip->ver_ihl & 0xf) * 4u;

		if (size < hlen || ntohs(ip->total_len) > size || ntohs(ip->total_len) < hlen ||
		    ipv4_cksum(b, hlen) != 0)
			abort();
		if (ip->ttl > 1) {
			struct ipv4_hdr_raw copy;
			memcpy(&copy, b, sizeof(copy));
			ipv4_ttl_dec(&copy);
			memcpy(b, &copy, sizeof(copy));
			if (ipv4_check(b, size) != SL_DROP_MAX)
				abort();
		}
	}
	free(b);
	return 0;
}
