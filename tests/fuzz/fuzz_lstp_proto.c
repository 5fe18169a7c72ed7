/*
 * libFuzzer: the LSTP codec.  The input is one direction of a tunnel's byte
 * stream: messages are parsed one after the other until one is incomplete
 * or malformed (where a real receiver would wait, or send ERROR and close).
 * Every accepted message must re-encode to exactly its own bytes (the wire
 * form is canonical: no pads, exact lengths), parsing that encoding must
 * give the same message, and lstp_peek must agree with lstp_parse on the
 * header; every rejection must come with a reason an ERROR can carry.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/lstp_proto.h>

#define FRAME_MAX (LSTP_HDR_LEN + LSTP_MAX_BODY)

static int same(const struct lstp_msg *a, const struct lstp_msg *b)
{
	if (a->type != b->type || a->channel != b->channel)
		return 0;
	switch (a->type) {
	case LSTP_COMMON_UNIQUE_INFO:
		return lstp_info_eq(&a->u.info, &b->u.info);
	case LSTP_TOPOLOGY_EXCHANGE:
		return lstp_topo_eq(&a->u.topo, &b->u.topo);
	case LSTP_PROPERTY_EXCHANGE:
		if (a->u.props.n != b->u.props.n)
			return 0;
		for (unsigned int i = 0; i < a->u.props.n; i++) {
			const struct lstp_prop *x = &a->u.props.p[i], *y = &b->u.props.p[i];

			if (x->klen != y->klen || x->vlen != y->vlen ||
			    memcmp(x->key, y->key, x->klen + 1u) != 0 ||
			    memcmp(x->value, y->value, x->vlen + 1u) != 0)
				return 0;
		}
		return 1;
	case LSTP_CONNECTION_REQUEST:
		return a->u.conn_req.kind == b->u.conn_req.kind &&
		       a->u.conn_req.name_len == b->u.conn_req.name_len &&
		       memcmp(a->u.conn_req.name, b->u.conn_req.name, a->u.conn_req.name_len + 1u) == 0 &&
		       a->u.conn_req.addr == b->u.conn_req.addr &&
		       a->u.conn_req.port == b->u.conn_req.port;
	case LSTP_CONNECTION_ACK:
		return a->u.conn_ack.addr == b->u.conn_ack.addr &&
		       a->u.conn_ack.port == b->u.conn_ack.port;
	case LSTP_CONNECTION_NACK:
	case LSTP_SERVICE_BEGIN_NACK:
		return a->u.nack.reason == b->u.nack.reason;
	case LSTP_SERVICE_DATA:
		return a->u.data.len == b->u.data.len &&
		       memcmp(a->u.data.data, b->u.data.data, a->u.data.len) == 0;
	case LSTP_SERVICE_FREE_REQUEST:
		return a->u.fr.flags == b->u.fr.flags;
	case LSTP_ERROR:
		return a->u.error.code == b->u.error.code &&
		       a->u.error.text_len == b->u.error.text_len &&
		       memcmp(a->u.error.text, b->u.error.text, a->u.error.text_len + 1u) == 0;
	case LSTP_SERVICE_BEGIN_REQUEST:
	case LSTP_SERVICE_BEGIN_ACK:
	case LSTP_SERVICE_DATA_PAUSE:
	case LSTP_SERVICE_DATA_RESUME:
	case LSTP_SHUTDOWN:
		return 1;
	default:
		return 0;
	}
}

/* The reason goes out in an ERROR as it is: it must encode. */
static void check_reason(const char *why, uint16_t err)
{
	static uint8_t out[LSTP_HDR_LEN + 3 + LSTP_MAX_TEXT];
	struct lstp_msg e = { .type = LSTP_ERROR };
	size_t n;

	if (why == NULL || (n = strlen(why)) == 0 || n > LSTP_MAX_TEXT)
		abort();
	if (lstp_err_name(err)[0] == '?')
		abort();
	e.u.error.code = err;
	e.u.error.text_len = (uint8_t)n;
	memcpy(e.u.error.text, why, n);
	if (lstp_encode(&e, out, sizeof(out)) != (int)(LSTP_HDR_LEN + 3 + n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t enc[FRAME_MAX];
	static struct lstp_msg m, again;
	static struct lstp_topology first;
	size_t off = 0, used, used2;
	int have_topo = 0;

	while (off < size) {
		const char *why = NULL, *pwhy = NULL;
		uint16_t err = 0, perr = 0, blen = 0;
		uint32_t chan = 0;
		uint8_t type = 0;
		int rc, prc, n;

		rc = lstp_parse(data + off, size - off, &m, &used, &why, &err);
		prc = lstp_peek(data + off, size - off, &type, &chan, &blen, &pwhy, &perr);
		if (rc == -EAGAIN) {
			/* peek decides on 8 bytes; it may only say "not yet" too,
			 * or accept a header whose body has yet to come */
			if (prc != -EAGAIN && prc != 0)
				abort();
			break;
		}
		if (rc != 0) {
			if (rc != -EBADMSG)
				abort();
			check_reason(why, err);
			/* peek and parse agree on what the header alone decides */
			if (err == LSTP_ERR_VERSION || err == LSTP_ERR_UNKNOWN_TYPE ||
			    err == LSTP_ERR_OVERSIZED) {
				if (prc != -EBADMSG || perr != err || strcmp(pwhy, why) != 0)
					abort();
			} else if (err != LSTP_ERR_MALFORMED || prc != 0) {
				abort();
			}
			break; /* the receiver sends ERROR and closes */
		}
		if (prc != 0 || type != m.type || chan != m.channel ||
		    (size_t)blen + LSTP_HDR_LEN != used)
			abort();
		if (used < LSTP_HDR_LEN || used > size - off || used > FRAME_MAX)
			abort();
		if (lstp_type_name(m.type)[0] == '?' || !lstp_phase_ok(m.type, LSTP_PHASE_SECURED))
			abort();

		/* canonical: encoding gives back the very bytes; one byte less
		 * of room is -ENOSPC */
		n = lstp_encode(&m, enc, sizeof(enc));
		if (n < 0 || (size_t)n != used || memcmp(enc, data + off, used) != 0)
			abort();
		if (lstp_encode(&m, enc, used - 1) != -ENOSPC)
			abort();
		/* the encoding parses to the same message */
		n = lstp_encode(&m, enc, sizeof(enc));
		if (lstp_parse(enc, (size_t)n, &again, &used2, NULL, NULL) != 0 ||
		    used2 != (size_t)n || !same(&m, &again))
			abort();
		/* the same message one byte short is only "not yet" */
		if (lstp_parse(data + off, used - 1, &again, &used2, NULL, NULL) != -EAGAIN)
			abort();
		if (m.type == LSTP_SERVICE_DATA) {
			uint8_t hdr[LSTP_HDR_LEN];

			lstp_data_hdr(hdr, m.channel, m.u.data.len);
			if (memcmp(hdr, data + off, LSTP_HDR_LEN) != 0)
				abort();
		}
		/* two topologies: the master rule is antisymmetric */
		if (m.type == LSTP_TOPOLOGY_EXCHANGE) {
			if (!have_topo) {
				first = m.u.topo;
				have_topo = 1;
			} else {
				int x = lstp_is_master(&first, &m.u.topo);
				int y = lstp_is_master(&m.u.topo, &first);

				if (x == -1 ? y != -1 : x + y != 1)
					abort();
				if (lstp_topo_eq(&first, &m.u.topo) && x != -1)
					abort();
			}
		}
		off += used;
	}
	return 0;
}
