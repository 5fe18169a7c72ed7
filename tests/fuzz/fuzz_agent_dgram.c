/*
 * libFuzzer: the agent protocol's DGRAM-session frames (ap_dparse).  The
 * input is a DGRAM session's byte stream: frames are parsed one after the
 * other until one is incomplete or malformed.  Every accepted frame must
 * re-encode to exactly its own bytes and parse back to the same frame, be
 * one that some side may send, and one byte short be only "not yet"; every
 * rejection must come with a reason.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/agent_proto.h>

#define FRAME_MAX (AP_HDR_LEN + 0xffff)

static int same(const struct ap_dmsg *a, const struct ap_dmsg *b)
{
	return a->type == b->type && a->da == b->da && a->credit == b->credit &&
	       a->icmp_type == b->icmp_type && a->icmp_code == b->icmp_code && a->mtu == b->mtu &&
	       a->from == b->from && a->len == b->len &&
	       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t enc[FRAME_MAX];
	struct ap_dmsg m, again;
	size_t off = 0, used, used2;
	const char *why;
	int rc, n;

	while (off < size) {
		why = NULL;
		rc = ap_dparse(data + off, size - off, &m, &used, &why);
		if (rc == -EAGAIN)
			break;
		if (rc != 0) {
			if (rc != -EPROTO && rc != -EBADMSG)
				abort();
			if (why == NULL || why[0] == '\0' || strlen(why) > AP_MAX_TEXT)
				abort();
			break; /* the receiver resets the session */
		}
		if (used < AP_HDR_LEN || used > size - off)
			abort();
		if (!ap_ddir_ok(m.type, AP_FROM_AGENT) && !ap_ddir_ok(m.type, AP_FROM_APPLIANCE))
			abort();
		n = ap_dencode(&m, enc, sizeof(enc));
		if (n < 0 || (size_t)n != used || memcmp(enc, data + off, used) != 0)
			abort();
		if (ap_dencode(&m, enc, used - 1) != -ENOSPC)
			abort();
		n = ap_dencode(&m, enc, sizeof(enc));
		if (ap_dparse(enc, (size_t)n, &again, &used2, NULL) != 0 || used2 != (size_t)n ||
		    !same(&m, &again))
			abort();
		if (ap_dparse(data + off, used - 1, &again, &used2, NULL) != -EAGAIN)
			abort();
		off += used;
	}
	return 0;
}
