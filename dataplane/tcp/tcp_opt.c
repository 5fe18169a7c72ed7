/* TCP option parsing and building (see tcp_opt.h). */
#include <errno.h>
#include <string.h>

#include "tcp_opt.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int tcp_opt_parse(const uint8_t *opt, size_t len, int syn, struct tcp_opts *o)
{
	size_t i = 0;

	memset(o, 0, sizeof(*o));
	if (len > TCP_OPT_LEN_MAX)
		return -E2BIG;
	/* the common case of an established connection, NOP NOP TS (RFC 7323
	 * appendix A layout), as BSD and Linux fast-path it */
	if (len == 12 && opt[0] == TCP_OPT_NOP && opt[1] == TCP_OPT_NOP && opt[2] == TCP_OPT_TS &&
	    opt[3] == 10) {
		o->flags = TCP_OPTF_TS;
		o->tsval = get32(opt + 4);
		o->tsecr = get32(opt + 8);
		return 0;
	}
	while (i < len) {
		uint8_t kind = opt[i], olen;

		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		/* every other option has a length byte covering kind and length */
		if (i + 1 >= len)
			return -EMSGSIZE;
		olen = opt[i + 1];
		if (olen < 2)
			return -EINVAL;
		if (i + olen > len)
			return -EMSGSIZE;
		switch (kind) {
		case TCP_OPT_MSS:
			if (olen != 4)
				return -EBADMSG;
			if (syn) {
				o->flags |= TCP_OPTF_MSS;
				o->mss = (uint16_t)(opt[i + 2] << 8 | opt[i + 3]);
			}
			break;
		case TCP_OPT_WS:
			if (olen != 3)
				return -EBADMSG;
			if (syn) {
				o->flags |= TCP_OPTF_WS;
				o->flags &= (uint8_t)~TCP_OPTF_WS_CAPPED;
				/* RFC 7323 2.3: a shift above 14 is taken as 14
				 * (and logged: the flag lets the caller count it) */
				o->wscale = opt[i + 2];
				if (o->wscale > TCP_WS_MAX) {
					o->wscale = TCP_WS_MAX;
					o->flags |= TCP_OPTF_WS_CAPPED;
				}
			}
			break;
		case TCP_OPT_SACK_PERM:
			if (olen != 2)
				return -EBADMSG;
			if (syn)
				o->flags |= TCP_OPTF_SACK_PERM;
			break;
		case TCP_OPT_TS:
			if (olen != 10)
				return -EBADMSG;
			o->flags |= TCP_OPTF_TS;
			o->tsval = get32(opt + i + 2);
			o->tsecr = get32(opt + i + 6);
			break;
		case TCP_OPT_SACK: {
			unsigned int n = (olen - 2u) / 8;

			/* RFC 2018 3: 2 + 8n bytes, n from 1 to 4 */
			if ((olen - 2u) % 8 || n == 0 || n > TCP_SACK_MAX)
				return -EBADMSG;
			o->flags |= TCP_OPTF_SACK;
			o->n_sack = (uint8_t)n;
			for (unsigned int b = 0; b < n; b++) {
				o->sack[b].start = get32(opt + i + 2 + 8 * b);
				o->sack[b].end = get32(opt + i + 6 + 8 * b);
			}
			break;
		}
		default:
			break; /* unknown: skipped by its length (RFC 9293 3.2) */
		}
		i += olen;
	}
	return 0;
}

const char *tcp_opt_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "ok";
	case -EINVAL:
		return "option length below 2";
	case -EMSGSIZE:
		return "option past end of header";
	case -EBADMSG:
		return "wrong length for option kind";
	case -E2BIG:
		return "options longer than 40 bytes";
	default:
		return "?";
	}
}

void tcp_opt_synack(const struct tcp_opts *syn, const struct tcp_opts *ours,
		    struct tcp_opts *out)
{
	uint8_t both = syn->flags & ours->flags;

	memset(out, 0, sizeof(*out));
	/* RFC 9293 3.7.1: send MSS in every SYN, whatever the peer sent */
	if (ours->flags & TCP_OPTF_MSS) {
		out->flags |= TCP_OPTF_MSS;
		out->mss = ours->mss;
	}
	/* RFC 7323 2.2: window scale in a SYN-ACK only if the SYN had it */
	if (both & TCP_OPTF_WS) {
		out->flags |= TCP_OPTF_WS;
		out->wscale = ours->wscale > TCP_WS_MAX ? TCP_WS_MAX : ours->wscale;
	}
	/* RFC 2018 2: SACK is used only when both SYNs permitted it */
	if (both & TCP_OPTF_SACK_PERM)
		out->flags |= TCP_OPTF_SACK_PERM;
	/* RFC 7323 3.2: TSopt in a SYN-ACK only if the SYN had one; TSecr
	 * echoes its TSval */
	if (both & TCP_OPTF_TS) {
		out->flags |= TCP_OPTF_TS;
		out->tsval = ours->tsval;
		out->tsecr = syn->tsval;
	}
}

/* Timestamps behind two lead bytes (NOP NOP, or SACK-permitted): 12 bytes,
 * the 32-bit fields aligned. */
static unsigned int put_ts(uint8_t *b, uint8_t lead0, uint8_t lead1, const struct tcp_opts *o)
{
	b[0] = lead0;
	b[1] = lead1;
	b[2] = TCP_OPT_TS;
	b[3] = 10;
	put32(b + 4, o->tsval);
	put32(b + 8, o->tsecr);
	return 12;
}

/* NOP-pad to a multiple of 4 (NOPs before, so fields stay aligned). */
unsigned int tcp_opt_build_syn(uint8_t *buf, const struct tcp_opts *o)
{
	unsigned int n = 0;

	if (o->flags & TCP_OPTF_MSS) {
		buf[n++] = TCP_OPT_MSS;
		buf[n++] = 4;
		buf[n++] = (uint8_t)(o->mss >> 8);
		buf[n++] = (uint8_t)o->mss;
	}
	if ((o->flags & TCP_OPTF_SACK_PERM) && (o->flags & TCP_OPTF_TS)) {
		/* the common 12-byte "SACK-permitted + timestamps" block */
		n += put_ts(buf + n, TCP_OPT_SACK_PERM, 2, o);
	} else if (o->flags & TCP_OPTF_TS) {
		n += put_ts(buf + n, TCP_OPT_NOP, TCP_OPT_NOP, o);
	} else if (o->flags & TCP_OPTF_SACK_PERM) {
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_SACK_PERM;
		buf[n++] = 2;
	}
	if (o->flags & TCP_OPTF_WS) {
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_WS;
		buf[n++] = 3;
		buf[n++] = o->wscale > TCP_WS_MAX ? TCP_WS_MAX : o->wscale;
	}
	return n;
}

unsigned int tcp_opt_build(uint8_t *buf, const struct tcp_opts *o)
{
	unsigned int n = 0, nb = o->n_sack;

	if (o->flags & TCP_OPTF_TS)
		n += put_ts(buf + n, TCP_OPT_NOP, TCP_OPT_NOP, o);
	/* 40 bytes of options: 3 blocks fit beside timestamps, 4 without */
	if (nb > (o->flags & TCP_OPTF_TS ? 3u : 4u))
		nb = o->flags & TCP_OPTF_TS ? 3u : 4u;
	if (nb) {
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_SACK;
		buf[n++] = (uint8_t)(2 + 8 * nb);
		for (unsigned int b = 0; b < nb; b++) {
			put32(buf + n, o->sack[b].start);
			put32(buf + n + 4, o->sack[b].end);
			n += 8;
		}
	}
	return n;
}
