/*
 * TCP segment parsing and header building on raw bytes (RFC 9293 3.1):
 * pure functions shared by tcp_input/tcp_output, the tests and the fuzzer.
 * IPv4 only for now; the pseudo-header sum takes the addresses as given.
 */
#ifndef SLUICE_TCP_SEG_H
#define SLUICE_TCP_SEG_H

#include <stddef.h>
#include <stdint.h>

#define TCP_HDR_MIN 20
#define TCP_HDR_MAX 60

/* What tcp_input needs of a received segment, host order. */
struct tcp_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t wnd;        /* unscaled, as on the wire */
	uint8_t flags;       /* TCP_F_* (tcp_fsm.h) */
	uint8_t hlen;        /* header length in bytes, options included */
	const uint8_t *opt;  /* options, hlen - 20 bytes */
	uint32_t len;        /* payload bytes */
	uint32_t seg_len;    /* RFC 9293 SEG.LEN: payload + SYN + FIN */
};

enum tcp_seg_err {
	TCP_SEG_OK = 0,
	TCP_SEG_SHORT,       /* fewer than 20 bytes, or data offset past the end */
	TCP_SEG_DOFF,        /* data offset below 5 words */
	TCP_SEG_CKSUM,       /* checksum over pseudo-header + segment is wrong */
	TCP_SEG_PORT,        /* port 0 at either end */
};

/* Ones'-complement sum of the IPv4 pseudo-header (RFC 9293 3.1): addresses
 * in network order, len = TCP header + payload. Unfolded 32-bit partial sum. */
uint32_t tcp_pseudo_sum_v4(uint32_t saddr_be, uint32_t daddr_be, uint32_t len);

/* Parse `len` bytes starting at the TCP header.  With `verify`, the checksum
 * is checked against the pseudo-header (pass 0 when the NIC already did). */
enum tcp_seg_err tcp_seg_parse(const void *tcp, size_t len, uint32_t saddr_be, uint32_t daddr_be,
			       int verify, struct tcp_seg *out);

/* Write a TCP header (20 bytes + optlen options, optlen a multiple of 4) at
 * `hdr` and fill in the checksum over it and the `paylen` payload bytes that
 * follow it contiguously.  Returns the header length, or 0 on bad optlen. */
unsigned int tcp_hdr_build(void *hdr, uint32_t saddr_be, uint32_t daddr_be, uint16_t sport,
			   uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
			   const uint8_t *opt, unsigned int optlen, unsigned int paylen);

const char *tcp_seg_err_str(enum tcp_seg_err e);

#endif
