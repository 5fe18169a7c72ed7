/*
 * Vnet ACLs over rte_acl (dataplane/agent/vnet_acl.c) against the linear
 * reference acl_match(): random rule sets of 100, 1000 and 5000 rules over
 * three vnets with 20,000 packets each, every answer compared; then the
 * cases that matter by hand (vnet isolation, first match, ports and
 * port-less packets, empty set, /0 and /32, range edges, refused rules),
 * and that classify never allocates.
 *
 * rte_acl needs the EAL: started once without hugepages, PCI or telemetry,
 * with a file prefix of its own so parallel runs do not meet, and cleaned
 * up at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "agent/vnet_acl.h"
#include "agent/vnet_match.h"

/* ---- allocation counting (classify must not allocate) ----
 * Interposing malloc fights a sanitizer's own; under ASan only the
 * rte_malloc count is checked. */

static __thread int counting;
static __thread unsigned long calls;

#ifndef __SANITIZE_ADDRESS__
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t a, size_t n);
extern void __libc_free(void *p);

void *malloc(size_t n)
{
	calls += counting;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	calls += counting;
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	calls += counting;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	calls += counting && p;
	__libc_free(p);
}

int posix_memalign(void **out, size_t a, size_t n)
{
	calls += counting;
	*out = __libc_memalign(a, n);
	return *out ? 0 : ENOMEM;
}

void *aligned_alloc(size_t a, size_t n)
{
	calls += counting;
	return __libc_memalign(a, n);
}
#endif

/* ---- helpers ---- */

static uint64_t rng = 0x5eed5eed12345678ull;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static inline uint32_t mask_of(unsigned int plen)
{
	return plen == 0 ? 0 : ~0u << (32 - plen);
}

static uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return a << 24 | b << 16 | c << 8 | d;
}

static struct sl_acl_rule R(uint16_t vnet, uint8_t proto, uint32_t src, uint8_t splen,
			    uint32_t dst, uint8_t dplen, uint16_t slo, uint16_t shi,
			    uint16_t dlo, uint16_t dhi, uint8_t act)
{
	struct sl_acl_rule r = {
		.vnet = vnet, .proto = proto, .action = act,
		.src = src, .src_plen = splen, .dst = dst, .dst_plen = dplen,
		.sport_lo = slo, .sport_hi = shi, .dport_lo = dlo, .dport_hi = dhi,
	};
	return r;
}

#define ANY 0, 65535

static struct acl_pkt P(uint16_t vnet, uint8_t proto, uint32_t src, uint32_t dst, int sport, int dport)
{
	struct acl_pkt p = {
		.vnet = vnet, .proto = proto, .src = src, .dst = dst,
		.has_ports = sport >= 0,
		.sport = (uint16_t)(sport < 0 ? 0 : sport),
		.dport = (uint16_t)(dport < 0 ? 0 : dport),
	};
	return p;
}

/* Classify one packet through the burst API and check it against acl_match. */
static int one(const struct vnet_acl *a, const struct sl_acl_rule *r, unsigned int n,
	       struct acl_pkt p)
{
	const struct acl_pkt *pp[1] = { &p };
	int16_t idx = -2;

	assert_int_equal(vnet_acl_classify(a, pp, 1, &idx), 0);
	assert_int_equal(idx, acl_match(r, n, &p));
	return idx;
}

static struct vnet_acl *build(const struct sl_acl_rule *r, unsigned int n)
{
	int err = 1;
	struct vnet_acl *a = vnet_acl_build("test", r, n, SOCKET_ID_ANY, &err);

	assert_non_null(a);
	assert_int_equal(err, 0);
	assert_int_equal(vnet_acl_count(a), n);
	return a;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- random rule sets ---- */

/* Addresses come mostly from a small universe so rules overlap and
 * shadow each other; now and then from anywhere. */
static uint32_t rnd_addr(void)
{
	switch (rnd() % 4) {
	case 0:
		return rnd();
	case 1:
		return ip(10, 0, rnd() % 4, rnd() % 256);
	default:
		return ip(10, rnd() % 4, rnd() % 8, rnd() % 256);
	}
}

static void rnd_range(uint16_t *lo, uint16_t *hi)
{
	uint32_t a = rnd() % 65536, b = rnd() % 65536;

	switch (rnd() % 10) {
	case 0: case 1: case 2: case 3:         /* any */
		*lo = 0, *hi = 65535;
		break;
	case 4: case 5:                         /* one port, often a well-known one */
		*lo = *hi = (uint16_t)(rnd() % 2 ? rnd() % 1024 : a);
		break;
	case 6:                                 /* a short range */
		*lo = (uint16_t)a;
		*hi = (uint16_t)RTE_MIN(65535u, a + rnd() % 100);
		break;
	case 7:                                 /* from the bottom */
		*lo = 0, *hi = (uint16_t)a;
		break;
	case 8:                                 /* to the top */
		*lo = (uint16_t)a, *hi = 65535;
		break;
	default:
		*lo = (uint16_t)RTE_MIN(a, b), *hi = (uint16_t)RTE_MAX(a, b);
		break;
	}
}

static void rnd_rules(struct sl_acl_rule *r, unsigned int n)
{
	static const uint8_t protos[] = { 0, 0, 1, 6, 6, 6, 17, 17, 47 };

	for (unsigned int i = 0; i < n; i++) {
		struct sl_acl_rule *x = &r[i];

		memset(x, 0, sizeof(*x));
		x->id = i + 1;
		x->vnet = (uint16_t)(rnd() % 3);
		x->proto = protos[rnd() % sizeof(protos)];
		x->action = (uint8_t)(SL_ACL_ALLOW + rnd() % 3);
		x->src_plen = (uint8_t)(rnd() % 33);
		x->dst_plen = (uint8_t)(rnd() % 33);
		x->src = rnd_addr() & mask_of(x->src_plen);
		x->dst = rnd_addr() & mask_of(x->dst_plen);
		rnd_range(&x->sport_lo, &x->sport_hi);
		rnd_range(&x->dport_lo, &x->dport_hi);
	}
}

static uint16_t rnd_port_near(uint16_t lo, uint16_t hi)
{
	switch (rnd() % 6) {
	case 0: return lo;
	case 1: return hi;
	case 2: return (uint16_t)(lo - 1);      /* wraps at 0: fine, just another port */
	case 3: return (uint16_t)(hi + 1);
	case 4: return (uint16_t)(lo + rnd() % ((uint32_t)hi - lo + 1));
	default: return (uint16_t)rnd();
	}
}

static void rnd_pkt(const struct sl_acl_rule *r, unsigned int n, struct acl_pkt *p)
{
	static const uint8_t protos[] = { 1, 6, 6, 17, 17, 47 };

	memset(p, 0, sizeof(*p));
	if (n == 0 || rnd() % 10 == 0) {        /* anything */
		p->vnet = (uint16_t)(rnd() % 4);
		p->proto = protos[rnd() % sizeof(protos)];
		p->src = rnd_addr();
		p->dst = rnd_addr();
	} else {                                /* aimed at a rule */
		const struct sl_acl_rule *x = &r[rnd() % n];

		p->vnet = rnd() % 10 ? x->vnet : (uint16_t)(rnd() % 4);
		p->proto = x->proto && rnd() % 8 ? x->proto : protos[rnd() % sizeof(protos)];
		p->src = x->src | (rnd() & ~mask_of(x->src_plen));
		p->dst = x->dst | (rnd() & ~mask_of(x->dst_plen));
		if (rnd() % 16 == 0)
			p->src ^= 1u << (rnd() % 32);
		if (rnd() % 16 == 0)
			p->dst ^= 1u << (rnd() % 32);
		p->sport = rnd_port_near(x->sport_lo, x->sport_hi);
		p->dport = rnd_port_near(x->dport_lo, x->dport_hi);
	}
	if (p->proto == 6 || p->proto == 17)
		p->has_ports = rnd() % 12 != 0;         /* some later fragments */
	else
		p->has_ports = rnd() % 20 == 0;         /* odd, but acl_match has an answer */
	if (!p->has_ports && rnd() % 2)
		p->sport = p->dport = 0;
	else if (p->sport == 0 && p->dport == 0 && !p->has_ports)
		p->sport = (uint16_t)rnd();             /* garbage ports must not matter */
	if (!(p->proto == 6 || p->proto == 17) && rnd() % 3 == 0) {
		p->sport = (uint16_t)rnd();
		p->dport = (uint16_t)rnd();
	}
}

#define NPKT 20000

static void differential(unsigned int nrules)
{
	struct sl_acl_rule *r = calloc(nrules, sizeof(*r));
	struct acl_pkt *pk = calloc(NPKT, sizeof(*pk));
	const struct acl_pkt **pp = calloc(NPKT, sizeof(*pp));
	int16_t *idx = calloc(NPKT, sizeof(*idx));
	unsigned int hits = 0, off;
	unsigned long allocs;
	size_t mem;
	struct rte_malloc_socket_stats st0, st1;
	struct vnet_acl *a;
	double t0, t1, t2;
	int sock = (int)rte_socket_id();

	assert_non_null(r);
	assert_non_null(pk);
	assert_non_null(pp);
	assert_non_null(idx);
	rnd_rules(r, nrules);
	for (unsigned int i = 0; i < NPKT; i++) {
		rnd_pkt(r, nrules, &pk[i]);
		pp[i] = &pk[i];
	}

	if (sock < 0)
		sock = 0;
	rte_malloc_get_socket_stats(sock, &st0);
	t0 = now_s();
	a = build(r, nrules);
	t1 = now_s();
	rte_malloc_get_socket_stats(sock, &st1);
	mem = st1.heap_allocsz_bytes - st0.heap_allocsz_bytes;

	/* bursts of uneven sizes, across the implementation's chunking */
	rte_malloc_get_socket_stats(sock, &st0);
	counting = 1;
	calls = 0;
	for (off = 0; off < NPKT;) {
		unsigned int m = RTE_MIN(NPKT - off, 1 + rnd() % 200);

		assert_int_equal(vnet_acl_classify(a, pp + off, m, idx + off), 0);
		off += m;
	}
	allocs = calls;
	counting = 0;
	t2 = now_s();
	rte_malloc_get_socket_stats(sock, &st1);
	assert_int_equal(allocs, 0);
	assert_int_equal(st0.alloc_count, st1.alloc_count);

	for (unsigned int i = 0; i < NPKT; i++) {
		int want = acl_match(r, nrules, &pk[i]);

		if (idx[i] != want)
			fail_msg("%u rules, packet %u: vnet %u proto %u %08x -> %08x ports %u (%u, %u): "
				 "rte_acl %d, acl_match %d", nrules, i, pk[i].vnet, pk[i].proto,
				 pk[i].src, pk[i].dst, pk[i].has_ports, pk[i].sport, pk[i].dport,
				 idx[i], want);
		hits += want >= 0;
	}
	print_message("%u rules: build %.3f s, %.1f MB, classify %.1f ns/packet, %u/%u packets hit a rule\n",
		      nrules, t1 - t0, (double)mem / 1e6, (t2 - t1) * 1e9 / NPKT, hits, NPKT);
	/* the packets are aimed: most must meet a rule, or the test says little */
	assert_true(hits > NPKT / 2);
	assert_true(hits < NPKT);

	vnet_acl_free(a);
	free(idx);
	free(pp);
	free(pk);
	free(r);
}

static void test_diff_100(void **s) { (void)s; differential(100); }
static void test_diff_1000(void **s) { (void)s; differential(1000); }
static void test_diff_5000(void **s) { (void)s; differential(5000); }

/* ---- by hand ---- */

static void test_vnet_isolation(void **s)
{
	struct sl_acl_rule r[] = {
		R(1, 0, 0, 0, ip(10, 0, 0, 0), 8, ANY, ANY, SL_ACL_DROP),
		R(0, 6, 0, 0, 0, 0, ANY, 22, 22, SL_ACL_REJECT),
		R(2, 0, 0, 0, 0, 0, ANY, ANY, SL_ACL_ALLOW),
	};
	unsigned int n = 3;
	struct vnet_acl *a = build(r, n);
	(void)s;

	assert_int_equal(one(a, r, n, P(1, 6, ip(192, 168, 0, 1), ip(10, 1, 2, 3), 1000, 22)), 0);
	assert_int_equal(one(a, r, n, P(0, 6, ip(192, 168, 0, 1), ip(10, 1, 2, 3), 1000, 22)), 1);
	assert_int_equal(one(a, r, n, P(0, 6, ip(192, 168, 0, 1), ip(10, 1, 2, 3), 1000, 23)), -1);
	assert_int_equal(one(a, r, n, P(2, 6, ip(192, 168, 0, 1), ip(10, 1, 2, 3), 1000, 22)), 2);
	/* a vnet without rules, and one far above any rule's */
	assert_int_equal(one(a, r, n, P(3, 6, ip(192, 168, 0, 1), ip(10, 1, 2, 3), 1000, 22)), -1);
	assert_int_equal(one(a, r, n, P(257, 6, ip(192, 168, 0, 1), ip(10, 1, 2, 3), 1000, 22)), -1);
	assert_int_equal(one(a, r, n, P(65535, 1, 0, 0, -1, -1)), -1);
	vnet_acl_free(a);
}

static void test_first_match(void **s)
{
	struct sl_acl_rule r[] = {
		R(0, 6, 0, 0, ip(10, 1, 2, 3), 32, ANY, 80, 80, SL_ACL_ALLOW),   /* the exception */
		R(0, 6, 0, 0, ip(10, 1, 0, 0), 16, ANY, 80, 80, SL_ACL_REJECT),
		R(0, 0, 0, 0, ip(10, 0, 0, 0), 8, ANY, ANY, SL_ACL_DROP),
		R(0, 6, 0, 0, ip(10, 1, 2, 4), 32, ANY, 80, 80, SL_ACL_ALLOW),   /* shadowed */
	};
	unsigned int n = 4;
	struct vnet_acl *a = build(r, n);
	(void)s;

	assert_int_equal(one(a, r, n, P(0, 6, 1, ip(10, 1, 2, 3), 5555, 80)), 0);
	assert_int_equal(one(a, r, n, P(0, 6, 1, ip(10, 1, 2, 4), 5555, 80)), 1);
	assert_int_equal(one(a, r, n, P(0, 6, 1, ip(10, 1, 2, 3), 5555, 81)), 2);
	assert_int_equal(one(a, r, n, P(0, 17, 1, ip(10, 1, 2, 3), 5555, 80)), 2);
	assert_int_equal(one(a, r, n, P(0, 6, 1, ip(11, 1, 2, 3), 5555, 80)), -1);
	vnet_acl_free(a);

	/* the same rules the other way round: the broad one takes everything */
	struct sl_acl_rule q[] = { r[2], r[1], r[0] };

	a = build(q, 3);
	assert_int_equal(one(a, q, 3, P(0, 6, 1, ip(10, 1, 2, 3), 5555, 80)), 0);
	assert_int_equal(one(a, q, 3, P(0, 6, 1, ip(11, 1, 2, 3), 5555, 80)), -1);
	vnet_acl_free(a);

	/* identical rules: the first one */
	struct sl_acl_rule d[] = { r[1], r[1], r[1] };

	a = build(d, 3);
	assert_int_equal(one(a, d, 3, P(0, 6, 1, ip(10, 1, 9, 9), 1, 80)), 0);
	vnet_acl_free(a);
}

static void test_ports(void **s)
{
	struct sl_acl_rule r[] = {
		R(0, 6, 0, 0, 0, 0, ANY, 22, 22, SL_ACL_DROP),                  /* 0: tcp/22 */
		R(0, 17, 0, 0, 0, 0, 53, 53, ANY, SL_ACL_DROP),                 /* 1: udp from 53 */
		R(0, 1, 0, 0, ip(10, 9, 0, 0), 16, 1, 2, 3, 4, SL_ACL_REJECT),  /* 2: icmp, ports ignored */
		R(0, 0, 0, 0, ip(10, 8, 0, 0), 16, 7, 7, 7, 7, SL_ACL_REJECT),  /* 3: any proto, ports ignored */
		R(0, 6, 0, 0, ip(10, 7, 0, 0), 16, ANY, ANY, SL_ACL_ALLOW),     /* 4: tcp, any ports */
		R(0, 0, 0, 0, 0, 0, ANY, ANY, SL_ACL_ALLOW),                    /* 5: everything */
	};
	unsigned int n = 6;
	struct vnet_acl *a = build(r, n);
	(void)s;

	assert_int_equal(one(a, r, n, P(0, 6, 1, ip(10, 7, 0, 1), 1000, 22)), 0);
	assert_int_equal(one(a, r, n, P(0, 17, 1, ip(10, 7, 0, 1), 1000, 22)), 5);
	assert_int_equal(one(a, r, n, P(0, 17, 1, ip(10, 7, 0, 1), 53, 1000)), 1);
	/* a later TCP fragment: no port rule can have been checked */
	assert_int_equal(one(a, r, n, P(0, 6, 1, ip(10, 7, 0, 1), -1, -1)), 4);
	assert_int_equal(one(a, r, n, P(0, 6, 1, ip(10, 6, 0, 1), -1, -1)), 5);
	assert_int_equal(one(a, r, n, P(0, 17, 1, ip(10, 7, 0, 1), -1, -1)), 5);
	/* ICMP has no ports; port fields of an ICMP or any-proto rule do not count */
	assert_int_equal(one(a, r, n, P(0, 1, 1, ip(10, 9, 1, 1), -1, -1)), 2);
	assert_int_equal(one(a, r, n, P(0, 1, 1, ip(10, 8, 1, 1), -1, -1)), 3);
	assert_int_equal(one(a, r, n, P(0, 6, 1, ip(10, 8, 1, 1), 1000, 1000)), 3);
	assert_int_equal(one(a, r, n, P(0, 47, 1, ip(10, 8, 1, 1), -1, -1)), 3);
	assert_int_equal(one(a, r, n, P(0, 47, 1, ip(10, 1, 1, 1), -1, -1)), 5);
	vnet_acl_free(a);
}

static void test_port_edges(void **s)
{
	struct sl_acl_rule r[] = {
		R(0, 6, 0, 0, 0, 0, ANY, 1000, 2000, SL_ACL_DROP),
		R(0, 6, 0, 0, 0, 0, 0, 0, ANY, SL_ACL_DROP),
		R(0, 6, 0, 0, 0, 0, ANY, 65535, 65535, SL_ACL_DROP),
		R(0, 17, 0, 0, 0, 0, ANY, 0, 65534, SL_ACL_DROP),
		R(0, 17, 0, 0, 0, 0, 1, 65535, ANY, SL_ACL_REJECT),
		R(0, 6, 0, 0, 0, 0, 255, 256, 255, 256, SL_ACL_REJECT),         /* across a byte */
	};
	unsigned int n = 6;
	struct vnet_acl *a = build(r, n);
	(void)s;

	assert_int_equal(one(a, r, n, P(0, 6, 1, 2, 5, 999)), -1);
	assert_int_equal(one(a, r, n, P(0, 6, 1, 2, 5, 1000)), 0);
	assert_int_equal(one(a, r, n, P(0, 6, 1, 2, 5, 2000)), 0);
	assert_int_equal(one(a, r, n, P(0, 6, 1, 2, 5, 2001)), -1);
	assert_int_equal(one(a, r, n, P(0, 6, 1, 2, 0, 2001)), 1);
	assert_int_equal(one(a, r, n, P(0, 6, 1, 2, 1, 65535)), 2);
	assert_int_equal(one(a, r, n, P(0, 6, 1, 2, 1, 65534)), -1);
	assert_int_equal(one(a, r, n, P(0, 17, 1, 2, 0, 65534)), 3);
	assert_int_equal(one(a, r, n, P(0, 17, 0, 2, 0, 65535)), -1);
	assert_int_equal(one(a, r, n, P(0, 17, 1, 2, 1, 65535)), 4);
	assert_int_equal(one(a, r, n, P(0, 6, 1, 2, 255, 256)), 5);
	assert_int_equal(one(a, r, n, P(0, 6, 1, 2, 256, 255)), 5);
	assert_int_equal(one(a, r, n, P(0, 6, 1, 2, 254, 256)), -1);
	assert_int_equal(one(a, r, n, P(0, 6, 1, 2, 256, 257)), -1);
	vnet_acl_free(a);
}

static void test_plen_edges(void **s)
{
	struct sl_acl_rule r[] = {
		R(0, 0, 0, 0, ip(1, 2, 3, 4), 32, ANY, ANY, SL_ACL_DROP),
		R(0, 0, ip(255, 255, 255, 255), 32, 0, 0, ANY, ANY, SL_ACL_DROP),
		R(0, 0, 0, 32, 0, 0, ANY, ANY, SL_ACL_DROP),                    /* 0.0.0.0/32 */
		R(0, 0, ip(128, 0, 0, 0), 1, ip(0, 0, 0, 0), 1, ANY, ANY, SL_ACL_REJECT),
		R(1, 0, 0, 0, 0, 0, ANY, ANY, SL_ACL_ALLOW),                    /* /0 both */
	};
	unsigned int n = 5;
	struct vnet_acl *a = build(r, n);
	(void)s;

	assert_int_equal(one(a, r, n, P(0, 6, ip(9, 9, 9, 9), ip(1, 2, 3, 4), 1, 1)), 0);
	assert_int_equal(one(a, r, n, P(0, 6, ip(9, 9, 9, 9), ip(1, 2, 3, 5), 1, 1)), -1);
	assert_int_equal(one(a, r, n, P(0, 6, ip(255, 255, 255, 255), ip(200, 0, 0, 0), 1, 1)), 1);
	assert_int_equal(one(a, r, n, P(0, 6, ip(255, 255, 255, 254), ip(200, 0, 0, 0), 1, 1)), -1);
	assert_int_equal(one(a, r, n, P(0, 6, 0, ip(200, 0, 0, 0), 1, 1)), 2);
	assert_int_equal(one(a, r, n, P(0, 6, 1, ip(200, 0, 0, 0), 1, 1)), -1);
	assert_int_equal(one(a, r, n, P(0, 6, ip(200, 0, 0, 0), ip(127, 255, 255, 255), 1, 1)), 3);
	assert_int_equal(one(a, r, n, P(0, 6, ip(127, 0, 0, 0), ip(127, 255, 255, 255), 1, 1)), -1);
	assert_int_equal(one(a, r, n, P(1, 1, 0, 0, -1, -1)), 4);
	assert_int_equal(one(a, r, n, P(1, 1, ~0u, ~0u, -1, -1)), 4);
	vnet_acl_free(a);
}

static void test_empty(void **s)
{
	const struct acl_pkt p0 = P(0, 6, 1, 2, 3, 4), p1 = P(1, 1, 0, 0, -1, -1);
	const struct acl_pkt *pp[] = { &p0, &p1 };
	int16_t idx[2] = { 5, 5 };
	struct vnet_acl *a;
	(void)s;

	a = build(NULL, 0);
	assert_int_equal(vnet_acl_classify(a, pp, 2, idx), 0);
	assert_int_equal(idx[0], -1);
	assert_int_equal(idx[1], -1);
	assert_int_equal(vnet_acl_classify(a, pp, 0, idx), 0);
	vnet_acl_free(a);
	vnet_acl_free(NULL);
	assert_int_equal(vnet_acl_classify(NULL, pp, 2, idx), -EINVAL);
}

static void test_refused(void **s)
{
	struct sl_acl_rule ok = R(0, 6, ip(10, 0, 0, 0), 8, 0, 0, ANY, 80, 80, SL_ACL_DROP);
	struct sl_acl_rule bad[4] = { ok, ok, ok, ok };
	int err = 0;
	(void)s;

	bad[0].src = ip(10, 0, 0, 1);          /* host bits */
	bad[1].dst_plen = 33;
	bad[2].dport_lo = 81;                   /* lo > hi */
	bad[3].sport_lo = 2, bad[3].sport_hi = 1;
	for (unsigned int i = 0; i < 4; i++) {
		struct sl_acl_rule two[2] = { ok, bad[i] };

		errno = 0;
		assert_null(vnet_acl_build("bad", two, 2, SOCKET_ID_ANY, &err));
		assert_int_equal(err, -EINVAL);
		assert_int_equal(errno, EINVAL);
	}
	assert_null(vnet_acl_build("big", &ok, VNET_ACL_RULES_MAX + 1, SOCKET_ID_ANY, &err));
	assert_int_equal(err, -E2BIG);
	assert_null(vnet_acl_build(NULL, &ok, 1, SOCKET_ID_ANY, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(vnet_acl_build("null", NULL, 1, SOCKET_ID_ANY, NULL));
	assert_int_equal(errno, EINVAL);
}

/* An old and a new classifier with the same name live side by side (the
 * swap), each with its own rules; rte_acl_create would otherwise hand back
 * the old context. */
static void test_same_name(void **s)
{
	struct sl_acl_rule r1 = R(0, 0, 0, 0, 0, 0, ANY, ANY, SL_ACL_DROP);
	struct sl_acl_rule r2[2] = {
		R(0, 17, 0, 0, 0, 0, ANY, ANY, SL_ACL_ALLOW),
		R(0, 6, 0, 0, 0, 0, ANY, ANY, SL_ACL_ALLOW),
	};
	struct vnet_acl *a, *b;
	(void)s;

	a = vnet_acl_build("a-very-long-classifier-name-beyond-32", &r1, 1, SOCKET_ID_ANY, NULL);
	b = vnet_acl_build("a-very-long-classifier-name-beyond-32", r2, 2, SOCKET_ID_ANY, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(one(a, &r1, 1, P(0, 6, 1, 2, 3, 4)), 0);
	assert_int_equal(one(b, r2, 2, P(0, 6, 1, 2, 3, 4)), 1);
	assert_int_equal(one(b, r2, 2, P(0, 1, 1, 2, -1, -1)), -1);
	vnet_acl_free(a);
	assert_int_equal(one(b, r2, 2, P(0, 17, 1, 2, 3, 4)), 0);
	vnet_acl_free(b);
}

/* ---- EAL ---- */

static char prefix[64], rundir[4096];

/* The EAL leaves its runtime directory (/var/run/dpdk/<prefix> as root)
 * behind, even after rte_eal_cleanup; it is ours alone, so remove it. */
static void rundir_remove(void)
{
	DIR *d;
	struct dirent *e;

	if (!rundir[0] || !strstr(rundir, prefix))
		return;
	d = opendir(rundir);
	if (d) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(rundir);
}

static int eal_up(void **s)
{
	char lcore[16];
	cpu_set_t cs;
	int cpu = 0;
	(void)s;

	/* one lcore, one this process may run on */
	if (sched_getaffinity(0, sizeof(cs), &cs) == 0)
		while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &cs))
			cpu++;
	snprintf(lcore, sizeof(lcore), "%d", cpu);
	snprintf(prefix, sizeof(prefix), "sl_acl_test_%d", (int)getpid());
	char *argv[] = {
		"test_vnet_acl", "--no-huge", "--no-pci", "--no-telemetry", "--no-shconf",
		"-m", "256", "-l", lcore, "--file-prefix", prefix, "--log-level", "error",
	};
	int rc = rte_eal_init((int)RTE_DIM(argv), argv);

	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	if (rc < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		rundir_remove();
		return -1;
	}
	return 0;
}

static int eal_down(void **s)
{
	int rc = rte_eal_cleanup();
	(void)s;

	rundir_remove();
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	const char *seed = getenv("VNET_ACL_SEED");    /* to explore: any other seed */

	if (seed && *seed)
		rng = strtoull(seed, NULL, 0) | 1;
	print_message("seed 0x%llx\n", (unsigned long long)rng);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnet_isolation),
		cmocka_unit_test(test_first_match),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_port_edges),
		cmocka_unit_test(test_plen_edges),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_same_name),
		cmocka_unit_test(test_diff_100),
		cmocka_unit_test(test_diff_1000),
		cmocka_unit_test(test_diff_5000),
	};

	return cmocka_run_group_tests(tests, eal_up, eal_down);
}
