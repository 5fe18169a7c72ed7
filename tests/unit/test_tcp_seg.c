/* TCP segment parse and header build, against bytes scapy produced. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "tcp/tcp_fsm.h"
#include "tcp/tcp_seg.h"

/* 198.18.0.2:40000 -> 198.19.0.10:9000, SYN seq 0x12345678, window 64240,
 * MSS 1460, SACK-permitted, TS 1000/0, NOP, WS 7 (scapy) */
static const uint8_t syn[] = {
	0x9c, 0x40, 0x23, 0x28, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
	0xfa, 0xf0, 0x94, 0xe0, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
	0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};
/* 198.19.0.10:9000 -> 198.18.0.2:40000, PSH|ACK seq 1000 ack 0x12345679,
 * window 502, "hello" (scapy) */
static const uint8_t data[] = {
	0x23, 0x28, 0x9c, 0x40, 0x00, 0x00, 0x03, 0xe8, 0x12, 0x34, 0x56, 0x79, 0x50, 0x18,
	0x01, 0xf6, 0xb1, 0xcf, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

static uint32_t A(const char *s)
{
	uint32_t a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static void test_parse_syn(void **s)
{
	struct tcp_seg g;
	(void)s;
	assert_int_equal(tcp_seg_parse(syn, sizeof(syn), A("198.18.0.2"), A("198.19.0.10"), 1, &g),
			 TCP_SEG_OK);
	assert_int_equal(g.sport, 40000);
	assert_int_equal(g.dport, 9000);
	assert_int_equal(g.seq, 0x12345678);
	assert_int_equal(g.flags, TCP_F_SYN);
	assert_int_equal(g.wnd, 64240);
	assert_int_equal(g.hlen, 40);
	assert_int_equal(g.len, 0);
	assert_int_equal(g.seg_len, 1); /* the SYN */
	assert_ptr_equal(g.opt, syn + 20);
	/* another source address: the pseudo-header sum no longer matches */
	assert_int_equal(tcp_seg_parse(syn, sizeof(syn), A("198.18.0.3"), A("198.19.0.10"), 1, &g),
			 TCP_SEG_CKSUM);
	/* without verification the same bytes parse */
	assert_int_equal(tcp_seg_parse(syn, sizeof(syn), A("198.18.0.3"), A("198.19.0.10"), 0, &g),
			 TCP_SEG_OK);
}

static void test_parse_data(void **s)
{
	struct tcp_seg g;
	uint8_t b[sizeof(data)];
	(void)s;
	assert_int_equal(tcp_seg_parse(data, sizeof(data), A("198.19.0.10"), A("198.18.0.2"), 1, &g),
			 TCP_SEG_OK);
	assert_int_equal(g.len, 5);
	assert_int_equal(g.seg_len, 5);
	assert_int_equal(g.ack, 0x12345679);
	assert_int_equal(g.flags, TCP_F_PSH | TCP_F_ACK);
	/* one flipped payload bit fails the checksum */
	memcpy(b, data, sizeof(b));
	b[22] ^= 0x20;
	assert_int_equal(tcp_seg_parse(b, sizeof(b), A("198.19.0.10"), A("198.18.0.2"), 1, &g),
			 TCP_SEG_CKSUM);
}

static void test_malformed(void **s)
{
	struct tcp_seg g;
	uint8_t b[sizeof(syn)];
	(void)s;
	assert_int_equal(tcp_seg_parse(syn, 19, 0, 0, 0, &g), TCP_SEG_SHORT);
	/* data offset beyond what arrived */
	assert_int_equal(tcp_seg_parse(syn, 39, 0, 0, 0, &g), TCP_SEG_SHORT);
	memcpy(b, syn, sizeof(b));
	b[12] = 0x40; /* 4 words */
	assert_int_equal(tcp_seg_parse(b, sizeof(b), 0, 0, 0, &g), TCP_SEG_DOFF);
	memcpy(b, syn, sizeof(b));
	b[0] = b[1] = 0;
	assert_int_equal(tcp_seg_parse(b, sizeof(b), 0, 0, 0, &g), TCP_SEG_PORT);
	assert_string_equal(tcp_seg_err_str(TCP_SEG_CKSUM), "bad checksum");
}

static void test_build_matches_scapy(void **s)
{
	uint8_t b[64];
	unsigned int h;
	(void)s;
	memset(b, 0xee, sizeof(b));
	h = tcp_hdr_build(b, A("198.18.0.2"), A("198.19.0.10"), 40000, 9000, 0x12345678, 0xdeadbeef,
			  TCP_F_SYN, 64240, syn + 20, 20, 0);
	assert_int_equal(h, 40);
	/* the ACK field is zeroed without the ACK flag, so the bytes match */
	assert_memory_equal(b, syn, sizeof(syn));

	memset(b, 0, sizeof(b));
	memcpy(b + 20, "hello", 5);
	h = tcp_hdr_build(b, A("198.19.0.10"), A("198.18.0.2"), 9000, 40000, 1000, 0x12345679,
			  TCP_F_PSH | TCP_F_ACK, 502, NULL, 0, 5);
	assert_int_equal(h, 20);
	assert_memory_equal(b, data, sizeof(data));
	/* options must be whole words and fit */
	assert_int_equal(tcp_hdr_build(b, 0, 0, 1, 2, 0, 0, 0, 0, syn, 3, 0), 0);
	assert_int_equal(tcp_hdr_build(b, 0, 0, 1, 2, 0, 0, 0, 0, syn, 44, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_syn),
		cmocka_unit_test(test_parse_data),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_build_matches_scapy),
	};
	return cmocka_run_group_tests_name("tcp_seg", tests, NULL, NULL);
}
