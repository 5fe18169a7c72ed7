/* TCP segment parsing and header building (see tcp_seg.h). */
#include <string.h>
#include <arpa/inet.h>

#include "tcp_fsm.h"
#include "tcp_seg.h"

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	while (len >= 2) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint32_t tcp_pseudo_sum_v4(uint32_t saddr_be, uint32_t daddr_be, uint32_t len)
{
	uint8_t ph[12];

	memcpy(ph, &saddr_be, 4);
	memcpy(ph + 4, &daddr_be, 4);
	ph[8] = 0;
	ph[9] = 6; /* protocol TCP */
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return sum16(ph, sizeof(ph), 0);
}

enum tcp_seg_err tcp_seg_parse(const void *tcp, size_t len, uint32_t saddr_be, uint32_t daddr_be,
			       int verify, struct tcp_seg *out)
{
	const uint8_t *b = tcp;
	unsigned int hlen;

	if (len < TCP_HDR_MIN)
		return TCP_SEG_SHORT;
	hlen = (b[12] >> 4) * 4u;
	if (hlen < TCP_HDR_MIN)
		return TCP_SEG_DOFF;
	if (hlen > len)
		return TCP_SEG_SHORT;
	/* RFC 9293 3.1: the checksum covers pseudo-header, header and data;
	 * a correct segment sums to 0xffff */
	if (verify && fold(sum16(b, len, tcp_pseudo_sum_v4(saddr_be, daddr_be, (uint32_t)len))) != 0xffff)
		return TCP_SEG_CKSUM;
	out->sport = (uint16_t)(b[0] << 8 | b[1]);
	out->dport = (uint16_t)(b[2] << 8 | b[3]);
	if (out->sport == 0 || out->dport == 0)
		return TCP_SEG_PORT;
	out->seq = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
	out->ack = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
	out->flags = b[13] & 0x3f;
	out->wnd = (uint16_t)(b[14] << 8 | b[15]);
	out->hlen = (uint8_t)hlen;
	out->opt = b + TCP_HDR_MIN;
	out->len = (uint32_t)(len - hlen);
	/* RFC 9293 3.4: SYN and FIN each occupy one sequence number */
	out->seg_len = out->len + !!(out->flags & TCP_F_SYN) + !!(out->flags & TCP_F_FIN);
	return TCP_SEG_OK;
}

unsigned int tcp_hdr_build(void *hdr, uint32_t saddr_be, uint32_t daddr_be, uint16_t sport,
			   uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
			   const uint8_t *opt, unsigned int optlen, unsigned int paylen)
{
	uint8_t *b = hdr;
	unsigned int hlen = TCP_HDR_MIN + optlen;
	uint16_t ck;

	if (optlen % 4 || hlen > TCP_HDR_MAX)
		return 0;
	b[0] = (uint8_t)(sport >> 8);
	b[1] = (uint8_t)sport;
	b[2] = (uint8_t)(dport >> 8);
	b[3] = (uint8_t)dport;
	b[4] = (uint8_t)(seq >> 24);
	b[5] = (uint8_t)(seq >> 16);
	b[6] = (uint8_t)(seq >> 8);
	b[7] = (uint8_t)seq;
	/* RFC 9293 3.1: the ACK field is zero when ACK is not set */
	if (!(flags & TCP_F_ACK))
		ack = 0;
	b[8] = (uint8_t)(ack >> 24);
	b[9] = (uint8_t)(ack >> 16);
	b[10] = (uint8_t)(ack >> 8);
	b[11] = (uint8_t)ack;
	b[12] = (uint8_t)((hlen / 4) << 4);
	b[13] = flags;
	b[14] = (uint8_t)(wnd >> 8);
	b[15] = (uint8_t)wnd;
	b[16] = b[17] = 0; /* checksum, below */
	b[18] = b[19] = 0; /* urgent pointer: never used (RFC 6093) */
	if (optlen)
		memcpy(b + TCP_HDR_MIN, opt, optlen);
	ck = (uint16_t)~fold(sum16(b, hlen + paylen,
				   tcp_pseudo_sum_v4(saddr_be, daddr_be, hlen + paylen)));
	b[16] = (uint8_t)(ck >> 8);
	b[17] = (uint8_t)ck;
	return hlen;
}

const char *tcp_seg_err_str(enum tcp_seg_err e)
{
	switch (e) {
	case TCP_SEG_OK:    return "ok";
	case TCP_SEG_SHORT: return "truncated";
	case TCP_SEG_DOFF:  return "data offset below 5";
	case TCP_SEG_CKSUM: return "bad checksum";
	case TCP_SEG_PORT:  return "port 0";
	}
	return "?";
}
