/* libFuzzer: TCP segment parsing never overreads; what parses is consistent,
 * and rebuilding its header from the parsed fields gives the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_seg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	struct tcp_seg g;

	if (!b)
		return 0;
	memcpy(b, data, size);
	/* checksum off: explore the header logic, not the sum */
	if (tcp_seg_parse(b, size, 0x01020304, 0x05060708, 0, &g) == TCP_SEG_OK) {
		uint8_t out[TCP_HDR_MAX];

		if (g.hlen < TCP_HDR_MIN || g.hlen > size || g.len != size - g.hlen ||
		    g.opt != b + TCP_HDR_MIN)
			abort();
		if (tcp_hdr_build(out, 0x01020304, 0x05060708, g.sport, g.dport, g.seq, g.ack,
				  g.flags, g.wnd, g.opt, g.hlen - TCP_HDR_MIN, 0) != g.hlen)
			abort();
		/* ports, seq, offset, flags, window; the reserved bits and ECN
		 * flags are ignored on receipt and never sent (RFC 9293 3.1) */
		if (memcmp(out, b, 8) != 0 || out[12] != (b[12] & 0xf0) || out[13] != (b[13] & 0x3f) ||
		    memcmp(out + 14, b + 14, 2) != 0 || memcmp(out + 20, b + 20, g.hlen - 20) != 0)
			abort();
	}
	free(b);
	return 0;
}
