/* TCP options: a real Linux SYN's options, every malformed shape, the
 * SYN-only rules, and what we build parses back the same. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/tcp_opt.h"

/* MSS 1460, SACK-permitted, TS 1000/0, NOP, WS 7: a Linux SYN (scapy bytes) */
static const uint8_t linux_syn[] = {
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x03, 0xe8,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

static void test_linux_syn(void **s)
{
	struct tcp_opts o;
	uint8_t b[40];
	(void)s;
	assert_int_equal(tcp_opt_parse(linux_syn, sizeof(linux_syn), 1, &o), 0);
	assert_int_equal(o.flags, TCP_OPTF_MSS | TCP_OPTF_SACK_PERM | TCP_OPTF_TS | TCP_OPTF_WS);
	assert_int_equal(o.mss, 1460);
	assert_int_equal(o.wscale, 7);
	assert_int_equal(o.tsval, 1000);
	assert_int_equal(o.tsecr, 0);
	/* we build the same bytes, in the same order */
	assert_int_equal(tcp_opt_build_syn(b, &o), sizeof(linux_syn));
	assert_memory_equal(b, linux_syn, sizeof(linux_syn));
	/* on a non-SYN, MSS/WS/SACK-permitted mean nothing */
	assert_int_equal(tcp_opt_parse(linux_syn, sizeof(linux_syn), 0, &o), 0);
	assert_int_equal(o.flags, TCP_OPTF_TS);
}

static void test_malformed(void **s)
{
	struct tcp_opts o;
	uint8_t big[41];
	(void)s;
	static const uint8_t zero_len[] = { 0x02, 0x00, 0x05, 0xb4 };
	static const uint8_t one_len[] = { 0x08, 0x01 };
	static const uint8_t unknown_zero[] = { 0x01, 0x1e, 0x00 };
	static const uint8_t overrun[] = { 0x08, 0x0a, 0, 0, 0 };
	static const uint8_t unknown_overrun[] = { 0x1e, 0x06, 0, 0, 0 };
	static const uint8_t no_len[] = { 0x01, 0x08 };
	static const uint8_t bad_mss[] = { 0x02, 0x05, 0x05, 0xb4, 0x00 };
	static const uint8_t bad_ws[] = { 0x03, 0x04, 0x07, 0x00 };
	static const uint8_t bad_sackp[] = { 0x04, 0x03, 0x00 };
	static const uint8_t bad_ts[] = { 0x08, 0x06, 0, 0, 0, 1 };
	static const uint8_t bad_sack[] = { 0x05, 0x0b, 0, 0, 0, 1, 0, 0, 0, 2, 0 };
	static const uint8_t empty_sack[] = { 0x05, 0x02 };
	static const uint8_t five_sack[] = { 0x05, 42 };
	/* length 0 or 1: -EINVAL, known kind or not */
	assert_int_equal(tcp_opt_parse(zero_len, sizeof(zero_len), 1, &o), -EINVAL);
	assert_int_equal(tcp_opt_parse(one_len, sizeof(one_len), 1, &o), -EINVAL);
	assert_int_equal(tcp_opt_parse(unknown_zero, sizeof(unknown_zero), 0, &o), -EINVAL);
	/* runs past the end, or the length byte is missing: -EMSGSIZE */
	assert_int_equal(tcp_opt_parse(overrun, sizeof(overrun), 1, &o), -EMSGSIZE);
	assert_int_equal(tcp_opt_parse(unknown_overrun, sizeof(unknown_overrun), 1, &o), -EMSGSIZE);
	assert_int_equal(tcp_opt_parse(no_len, sizeof(no_len), 1, &o), -EMSGSIZE);
	assert_int_equal(tcp_opt_parse(five_sack, sizeof(five_sack), 0, &o), -EMSGSIZE);
	/* the Linux SYN cut short anywhere inside an option */
	assert_int_equal(tcp_opt_parse(linux_syn, 3, 1, &o), -EMSGSIZE);
	assert_int_equal(tcp_opt_parse(linux_syn, 11, 1, &o), -EMSGSIZE);
	assert_int_equal(tcp_opt_parse(linux_syn, 19, 1, &o), -EMSGSIZE);
	/* a known kind with the wrong length: -EBADMSG, SYN or not (the
	 * syntax is checked even where the value is ignored) */
	assert_int_equal(tcp_opt_parse(bad_mss, sizeof(bad_mss), 1, &o), -EBADMSG);
	assert_int_equal(tcp_opt_parse(bad_mss, sizeof(bad_mss), 0, &o), -EBADMSG);
	assert_int_equal(tcp_opt_parse(bad_ws, sizeof(bad_ws), 1, &o), -EBADMSG);
	assert_int_equal(tcp_opt_parse(bad_sackp, sizeof(bad_sackp), 1, &o), -EBADMSG);
	assert_int_equal(tcp_opt_parse(bad_ts, sizeof(bad_ts), 0, &o), -EBADMSG);
	assert_int_equal(tcp_opt_parse(bad_sack, sizeof(bad_sack), 0, &o), -EBADMSG);
	assert_int_equal(tcp_opt_parse(empty_sack, sizeof(empty_sack), 0, &o), -EBADMSG);
	/* more than a header can hold */
	memset(big, TCP_OPT_NOP, sizeof(big));
	assert_int_equal(tcp_opt_parse(big, 40, 1, &o), 0);
	assert_int_equal(tcp_opt_parse(big, 41, 1, &o), -E2BIG);
	assert_string_equal(tcp_opt_strerror(-EMSGSIZE), "option past end of header");
	assert_string_equal(tcp_opt_strerror(-EBADMSG), "wrong length for option kind");
	assert_string_equal(tcp_opt_strerror(-EINVAL), "option length below 2");
}

static void test_lenient(void **s)
{
	struct tcp_opts o;
	(void)s;
	/* unknown kinds are skipped by length; EOL ends the list */
	static const uint8_t unknown[] = { 0x1e, 0x04, 0xaa, 0xbb, 0x03, 0x03, 0x0f, 0x00, 0x02, 0x00 };
	/* after EOL anything goes: it is padding */
	static const uint8_t eol_junk[] = { 0x02, 0x04, 0x02, 0x18, 0x00, 0x08, 0x00, 0xff };
	/* NOP NOP TS: the fast path, and the same through the general loop */
	static const uint8_t nnts[] = { 1, 1, 8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 7, 1, 1, 1, 1 };
	assert_int_equal(tcp_opt_parse(unknown, sizeof(unknown), 1, &o), 0);
	/* RFC 7323 2.3: 15 is taken as 14, and flagged so it can be logged */
	assert_int_equal(o.flags, TCP_OPTF_WS | TCP_OPTF_WS_CAPPED);
	assert_int_equal(o.wscale, 14);
	assert_int_equal(tcp_opt_parse(eol_junk, sizeof(eol_junk), 1, &o), 0);
	assert_int_equal(o.flags, TCP_OPTF_MSS);
	assert_int_equal(o.mss, 536);
	for (size_t n = 12; n <= 16; n += 4) {
		assert_int_equal(tcp_opt_parse(nnts, n, 0, &o), 0);
		assert_int_equal(o.flags, TCP_OPTF_TS);
		assert_int_equal(o.tsval, 0xdeadbeef);
		assert_int_equal(o.tsecr, 7);
	}
	assert_int_equal(tcp_opt_parse(NULL, 0, 1, &o), 0);
	assert_int_equal(o.flags, 0);
}

static void test_sack_roundtrip(void **s)
{
	struct tcp_opts o = { .flags = TCP_OPTF_TS | TCP_OPTF_SACK, .tsval = 77, .tsecr = 88, .n_sack = 4 }, p;
	uint8_t b[40];
	unsigned int n;
	(void)s;
	for (int i = 0; i < 4; i++)
		o.sack[i] = (struct tcp_sack_block){ 0xfffff000u + 3000u * (uint32_t)i, 0xfffff000u + 3000u * (uint32_t)i + 1000 };
	/* with timestamps only three blocks fit */
	n = tcp_opt_build(b, &o);
	assert_int_equal(n, 12 + 4 + 24);
	assert_int_equal(n % 4, 0);
	assert_int_equal(tcp_opt_parse(b, n, 0, &p), 0);
	assert_int_equal(p.n_sack, 3);
	assert_int_equal(p.tsval, 77);
	assert_int_equal(p.sack[2].start, o.sack[2].start);
	assert_int_equal(p.sack[2].end, o.sack[2].end);
	/* without timestamps, four */
	o.flags = TCP_OPTF_SACK;
	n = tcp_opt_build(b, &o);
	assert_int_equal(n, 4 + 32);
	assert_int_equal(tcp_opt_parse(b, n, 0, &p), 0);
	assert_int_equal(p.n_sack, 4);
	assert_int_equal(p.sack[3].end, o.sack[3].end);
}

static void test_syn_ack_subsets(void **s)
{
	/* a SYN-ACK offers only what the SYN did: every subset builds to a
	 * multiple of 4 and parses back to itself */
	(void)s;
	for (unsigned int f = 0; f < 16; f++) {
		struct tcp_opts o = { .flags = (uint8_t)f, .mss = 1400, .wscale = 9, .tsval = 5, .tsecr = 6 }, p;
		uint8_t b[40];
		unsigned int n = tcp_opt_build_syn(b, &o);

		assert_int_equal(n % 4, 0);
		assert_true(n <= 20);
		assert_int_equal(tcp_opt_parse(b, n, 1, &p), 0);
		assert_int_equal(p.flags, f);
		if (f & TCP_OPTF_MSS)
			assert_int_equal(p.mss, 1400);
		if (f & TCP_OPTF_WS)
			assert_int_equal(p.wscale, 9);
	}
}

/* The SYN-ACK offers only what the SYN did (RFC 7323 2.2/3.2, RFC 2018 2),
 * and only what we support; MSS always. */
static void test_synack_negotiation(void **s)
{
	const struct tcp_opts ours = {
		.flags = TCP_OPTF_MSS | TCP_OPTF_WS | TCP_OPTF_SACK_PERM | TCP_OPTF_TS,
		.mss = 1460, .wscale = 9, .tsval = 4242,
	};
	struct tcp_opts syn, out, p;
	uint8_t b[40];
	unsigned int n;
	(void)s;
	/* the Linux SYN offers everything: we answer with everything */
	assert_int_equal(tcp_opt_parse(linux_syn, sizeof(linux_syn), 1, &syn), 0);
	tcp_opt_synack(&syn, &ours, &out);
	assert_int_equal(out.flags, ours.flags);
	assert_int_equal(out.mss, 1460);
	assert_int_equal(out.wscale, 9);  /* our shift, not the peer's 7 */
	assert_int_equal(out.tsval, 4242);
	assert_int_equal(out.tsecr, 1000); /* echoes the SYN's TSval */
	n = tcp_opt_build_syn(b, &out);
	assert_int_equal(n, 20);
	assert_int_equal(tcp_opt_parse(b, n, 1, &p), 0);
	assert_int_equal(p.tsecr, 1000);
	/* every subset the SYN may offer: the answer holds exactly that subset */
	for (unsigned int f = 0; f < 16; f++) {
		struct tcp_opts sy = { .flags = (uint8_t)(f | TCP_OPTF_MSS), .mss = 1200, .wscale = 3, .tsval = 9 };
		tcp_opt_synack(&sy, &ours, &out);
		assert_int_equal(out.flags, (f & ~TCP_OPTF_MSS) | TCP_OPTF_MSS);
	}
	/* a SYN with no options still gets our MSS, nothing else */
	tcp_opt_parse(NULL, 0, 1, &syn);
	tcp_opt_synack(&syn, &ours, &out);
	assert_int_equal(out.flags, TCP_OPTF_MSS);
	assert_int_equal(tcp_opt_build_syn(b, &out), 4);
	/* what we do not support is not offered even if the peer did */
	{
		struct tcp_opts mine = { .flags = TCP_OPTF_MSS | TCP_OPTF_TS, .mss = 1400, .tsval = 1 };
		tcp_opt_parse(linux_syn, sizeof(linux_syn), 1, &syn);
		tcp_opt_synack(&syn, &mine, &out);
		assert_int_equal(out.flags, TCP_OPTF_MSS | TCP_OPTF_TS);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_syn),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_lenient),
		cmocka_unit_test(test_sack_roundtrip),
		cmocka_unit_test(test_syn_ack_subsets),
		cmocka_unit_test(test_synack_negotiation),
	};
	return cmocka_run_group_tests_name("tcp_opt", tests, NULL, NULL);
}
