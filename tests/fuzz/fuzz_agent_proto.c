/*
 * libFuzzer: the agent protocol codec.  The input is a control-session byte
 * stream: frames are parsed one after the other until one is incomplete or
 * malformed (where a real receiver would wait or close).  Every accepted
 * frame must re-encode to exactly its own bytes (the wire form is
 * canonical: zero flags and pads, exact lengths), and parsing that encoding
 * must give the same message; every rejection must come with a reason.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/agent_proto.h>

#define FRAME_MAX (AP_HDR_LEN + AP_MAX_BODY)

static int same(const struct ap_msg *a, const struct ap_msg *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case AP_HELLO:
		return a->u.hello.ver_min == b->u.hello.ver_min &&
		       a->u.hello.ver_max == b->u.hello.ver_max &&
		       a->u.hello.caps == b->u.hello.caps &&
		       a->u.hello.sw_len == b->u.hello.sw_len &&
		       memcmp(a->u.hello.sw, b->u.hello.sw, a->u.hello.sw_len + 1u) == 0;
	case AP_HELLO_ACK:
		return a->u.hello_ack.version == b->u.hello_ack.version &&
		       a->u.hello_ack.caps == b->u.hello_ack.caps &&
		       a->u.hello_ack.keepalive_ms == b->u.hello_ack.keepalive_ms &&
		       a->u.hello_ack.pool == b->u.hello_ack.pool;
	case AP_KEEPALIVE:
	case AP_KEEPALIVE_ACK:
		return a->u.ka.ts == b->u.ka.ts;
	case AP_CONNECT:
		return a->u.connect.id == b->u.connect.id &&
		       a->u.connect.stream == b->u.connect.stream &&
		       a->u.connect.proto == b->u.connect.proto &&
		       a->u.connect.pad == b->u.connect.pad &&
		       a->u.connect.timeout_ms == b->u.connect.timeout_ms &&
		       a->u.connect.dst == b->u.connect.dst &&
		       a->u.connect.src == b->u.connect.src &&
		       a->u.connect.dport == b->u.connect.dport &&
		       a->u.connect.sport == b->u.connect.sport;
	case AP_CONNECT_RESULT:
		return a->u.cres.id == b->u.cres.id && a->u.cres.result == b->u.cres.result &&
		       a->u.cres.code == b->u.cres.code && a->u.cres.mss == b->u.cres.mss;
	case AP_PING:
		return a->u.ping.id == b->u.ping.id && a->u.ping.dst == b->u.ping.dst &&
		       a->u.ping.src == b->u.ping.src && a->u.ping.ident == b->u.ping.ident &&
		       a->u.ping.seq == b->u.ping.seq && a->u.ping.ttl == b->u.ping.ttl &&
		       a->u.ping.pad == b->u.ping.pad &&
		       a->u.ping.timeout_ms == b->u.ping.timeout_ms &&
		       a->u.ping.data_len == b->u.ping.data_len &&
		       (a->u.ping.data_len == 0 ||
			memcmp(a->u.ping.data, b->u.ping.data, a->u.ping.data_len) == 0);
	case AP_PING_RESULT:
		return a->u.pres.id == b->u.pres.id && a->u.pres.result == b->u.pres.result &&
		       a->u.pres.code == b->u.pres.code && a->u.pres.ttl == b->u.pres.ttl &&
		       a->u.pres.pad == b->u.pres.pad && a->u.pres.from == b->u.pres.from &&
		       a->u.pres.data_len == b->u.pres.data_len &&
		       (a->u.pres.data_len == 0 ||
			memcmp(a->u.pres.data, b->u.pres.data, a->u.pres.data_len) == 0);
	case AP_ERROR:
		return a->u.error.code == b->u.error.code &&
		       a->u.error.text_len == b->u.error.text_len &&
		       memcmp(a->u.error.text, b->u.error.text, a->u.error.text_len + 1u) == 0;
	case AP_RETIRE:
		return a->u.retire.stream == b->u.retire.stream;
	case AP_DA_OPEN:
		return memcmp(&a->u.da_open, &b->u.da_open, sizeof(a->u.da_open)) == 0;
	case AP_DA_RESULT:
		return a->u.da_result.id == b->u.da_result.id &&
		       a->u.da_result.result == b->u.da_result.result &&
		       a->u.da_result.pad == b->u.da_result.pad &&
		       a->u.da_result.relay_port == b->u.da_result.relay_port;
	case AP_DA_END:
		return a->u.da_end.da == b->u.da_end.da && a->u.da_end.reason == b->u.da_end.reason &&
		       a->u.da_end.pad == b->u.da_end.pad && a->u.da_end.replies == b->u.da_end.replies;
	case AP_DGRAM_OPEN:
		return a->u.dgram_open.id == b->u.dgram_open.id;
	case AP_DGRAM_UP:
		return a->u.dgram_up.id == b->u.dgram_up.id &&
		       a->u.dgram_up.result == b->u.dgram_up.result &&
		       a->u.dgram_up.pad == b->u.dgram_up.pad &&
		       a->u.dgram_up.pad2 == b->u.dgram_up.pad2 &&
		       a->u.dgram_up.session == b->u.dgram_up.session;
	case AP_DGRAM_CLOSE:
		return a->u.dgram_close.session == b->u.dgram_close.session;
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t enc[FRAME_MAX];
	struct ap_msg m, again;
	size_t off = 0, used, used2;
	const char *why;
	int rc, n;

	while (off < size) {
		why = NULL;
		rc = ap_parse(data + off, size - off, &m, &used, &why);
		if (rc == -EAGAIN)
			break;
		if (rc != 0) {
			if (rc != -E2BIG && rc != -EPROTO && rc != -EBADMSG)
				abort();
			if (why == NULL || why[0] == '\0' || strlen(why) > AP_MAX_TEXT)
				abort();
			if (ap_err_of(rc) == AP_ERR_INTERNAL || ap_err_str(ap_err_of(rc))[0] == '?')
				abort();
			break; /* the receiver sends ERROR and closes */
		}
		if (used < AP_HDR_LEN || used > size - off || used > FRAME_MAX)
			abort();
		if (ap_type_str(m.type)[0] == '?')
			abort();
		if (!ap_dir_ok(m.type, AP_FROM_AGENT) && !ap_dir_ok(m.type, AP_FROM_APPLIANCE))
			abort();

		/* canonical: encoding gives back the very bytes; one byte less
		 * of room is -ENOSPC */
		n = ap_encode(&m, enc, sizeof(enc));
		if (n < 0 || (size_t)n != used || memcmp(enc, data + off, used) != 0)
			abort();
		if (ap_encode(&m, enc, used - 1) != -ENOSPC)
			abort();
		/* the encoding parses to the same message */
		n = ap_encode(&m, enc, sizeof(enc));
		if (ap_parse(enc, (size_t)n, &again, &used2, NULL) != 0 || used2 != (size_t)n ||
		    !same(&m, &again))
			abort();
		/* the same frame one byte short is only "not yet" */
		if (ap_parse(data + off, used - 1, &again, &used2, NULL) != -EAGAIN)
			abort();
		off += used;
	}
	return 0;
}
