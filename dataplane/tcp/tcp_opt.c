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
			return -EINVAL;
		olen = opt[i + 1];
		if (olen < 2 || i + olen > len)
			return -EINVAL;
		switch (kind) {
		case TCP_OPT_MSS:
			if (olen != 4)
				return -EINVAL;
			if (syn) {
				o->flags |= TCP_OPTF_MSS;
				o->mss = (uint16_t)(opt[i + 2] << 8 | opt[i + 3]);
			}
			break;
		case TCP_OPT_WS:
			if (olen != 3)
				return -EINVAL;
			if (syn) {
				o->flags |= TCP_OPTF_WS;
				/* RFC 7323 2.3: a shift above 14 is taken as 14 */
				o->wscale = opt[i + 2] > TCP_WS_MAX ? TCP_WS_MAX : opt[i + 2];
			}
			break;
		case TCP_OPT_SACK_PERM:
			if (olen != 2)
				return -EINVAL;
			if (syn)
				o->flags |= TCP_OPTF_SACK_PERM;
			break;
		case TCP_OPT_TS:
			if (olen != 10)
				return -EINVAL;
			o->flags |= TCP_OPTF_TS;
			o->tsval = get32(opt + i + 2);
			o->tsecr = get32(opt + i + 6);
			break;
		case TCP_OPT_SACK: {
			unsigned int n = (olen - 2u) / 8;

			/* RFC 2018 3: 2 + 8n bytes, n from 1 to 4 */
			if ((olen - 2u) % 8 || n == 0 || n > TCP_SACK_MAX)
				return -EINVAL;
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
		buf[n++] = TCP_OPT_SACK_PERM;
		buf[n++] = 2;
		buf[n++] = TCP_OPT_TS;
		buf[n++] = 10;
		put32(buf + n, o->tsval);
		put32(buf + n + 4, o->tsecr);
		n += 8;
	} else if (o->flags & TCP_OPTF_TS) {
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_TS;
		buf[n++] = 10;
		put32(buf + n, o->tsval);
		put32(buf + n + 4, o->tsecr);
		n += 8;
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

	if (o->flags & TCP_OPTF_TS) {
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_TS;
		buf[n++] = 10;
		put32(buf + n, o->tsval);
		put32(buf + n + 4, o->tsecr);
		n += 8;
	}
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
