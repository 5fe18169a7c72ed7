/* Reassembly: ordering, every overlap shape, bounds, SACK blocks, and a
 * randomized check that the delivered byte stream is exactly the original. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/tcp_reass.h"

/* A buffer: a window onto a shared byte stream, trimmed like an mbuf. */
struct xbuf {
	uint32_t seq, len;
	int freed;
};

static int live;
static void t_front(void *b, uint32_t n) { ((struct xbuf *)b)->seq += n; ((struct xbuf *)b)->len -= n; }
static void t_back(void *b, uint32_t n) { ((struct xbuf *)b)->len -= n; }
static void t_free(void *b) { ((struct xbuf *)b)->freed = 1; live--; }
static const struct tcp_reass_ops OPS = { t_front, t_back, t_free };

static struct tcp_reass_node nodes[256];
static struct tcp_reass_pool P;
static const struct tcp_reass_limits L = { .max_bytes = 1 << 20, .max_segs = 200 };

static uint8_t got[1 << 16];
static uint32_t got_len, got_next;
static void deliver(void *ctx, void *b, uint32_t len)
{
	struct xbuf *x = b;
	(void)ctx;
	assert_int_equal(x->len, len);
	assert_int_equal(x->seq, got_next); /* in order, no gap, no overlap */
	for (uint32_t i = 0; i < len; i++)
		got[got_len++] = (uint8_t)(x->seq + i);
	got_next += len;
	live--;
}

static struct xbuf *mk(uint32_t seq, uint32_t len)
{
	struct xbuf *x = calloc(1, sizeof(*x));
	x->seq = seq;
	x->len = len;
	live++;
	return x;
}

static int ins(struct tcp_reass *q, uint32_t nxt, uint32_t seq, uint32_t len)
{
	struct xbuf *x = mk(seq, len);
	int r = tcp_reass_insert(q, &P, &L, &OPS, nxt, seq, len, x);
	if (r != 0) {
		live--; /* the caller frees what was not queued */
		free(x);
	}
	return r;
}

static void setup_case(struct tcp_reass *q, uint64_t max)
{
	memset(q, 0, sizeof(*q));
	tcp_reass_pool_init(&P, nodes, 256, max);
	live = 0;
	got_len = 0;
}

static void test_order_and_overlaps(void **s)
{
	struct tcp_reass q;
	uint32_t nxt = 1000;
	(void)s;
	setup_case(&q, 1 << 20);
	got_next = 1000;
	assert_int_equal(ins(&q, nxt, 1200, 100), 0);
	assert_int_equal(ins(&q, nxt, 1100, 100), 0);
	assert_int_equal(ins(&q, nxt, 1150, 100), 1);  /* wholly held: duplicate */
	assert_int_equal(ins(&q, nxt, 1250, 100), 0);  /* front trimmed to 1300 */
	assert_int_equal(ins(&q, nxt, 1500, 50), 0);
	assert_int_equal(ins(&q, nxt, 1450, 200), 0);  /* covers 1500+50: that one is replaced */
	assert_int_equal(q.nsegs, 4);
	assert_int_equal(ins(&q, nxt, 900, 50), 1);    /* already received */
	/* nothing deliverable until 1000..1100 arrives */
	assert_int_equal(tcp_reass_pop(&q, &P, &nxt, deliver, NULL), 0);
	assert_int_equal(ins(&q, nxt, 990, 110), 0);   /* old start trimmed to 1000 */
	assert_int_equal(tcp_reass_pop(&q, &P, &nxt, deliver, NULL), 350);
	assert_int_equal(nxt, 1350);
	assert_int_equal(q.nsegs, 1);                  /* 1450..1650 waits */
	tcp_reass_purge(&q, &P, &OPS);
	assert_int_equal(q.bytes, 0);
	assert_int_equal(P.bytes, 0);
}

static void test_bounds(void **s)
{
	struct tcp_reass q;
	struct tcp_reass_limits small = { .max_bytes = 300, .max_segs = 2 };
	(void)s;
	setup_case(&q, 1 << 20);
	struct xbuf *a = mk(200, 100), *b = mk(400, 100), *c = mk(600, 100);
	assert_int_equal(tcp_reass_insert(&q, &P, &small, &OPS, 100, 200, 100, a), 0);
	assert_int_equal(tcp_reass_insert(&q, &P, &small, &OPS, 100, 400, 100, b), 0);
	assert_int_equal(tcp_reass_insert(&q, &P, &small, &OPS, 100, 600, 100, c), -ENOBUFS);
	tcp_reass_purge(&q, &P, &OPS);
	/* the worker-wide byte bound */
	setup_case(&q, 150);
	assert_int_equal(ins(&q, 0, 100, 100), 0);
	assert_int_equal(ins(&q, 0, 300, 100), -ENOBUFS);
	tcp_reass_purge(&q, &P, &OPS);
	free(a); free(b); free(c);
}

static void test_sack_blocks(void **s)
{
	struct tcp_reass q;
	struct tcp_sack_block b[4];
	(void)s;
	setup_case(&q, 1 << 20);
	ins(&q, 0, 100, 100);
	ins(&q, 0, 200, 100); /* contiguous: one block 100..300 */
	ins(&q, 0, 500, 100);
	ins(&q, 0, 800, 50);
	ins(&q, 0, 550, 100); /* latest, extends 500..650 */
	assert_int_equal(tcp_reass_sack_blocks(&q, b, 4), 3);
	assert_true(b[0].start == 500 && b[0].end == 650); /* most recent first */
	assert_true(b[1].start == 100 && b[1].end == 300);
	assert_true(b[2].start == 800 && b[2].end == 850);
	assert_int_equal(tcp_reass_sack_blocks(&q, b, 1), 1);
	assert_int_equal(b[0].start, 500);
	tcp_reass_purge(&q, &P, &OPS);
}

static void test_random_stream(void **s)
{
	(void)s;
	srand(11);
	for (int round = 0; round < 50; round++) {
		struct tcp_reass q;
		uint32_t base = 0xffff0000u + (uint32_t)(rand() % 1000), nxt = base, total = 20000;

		setup_case(&q, 1 << 20);
		got_next = base;
		/* random segments, duplicates and overlaps, in random order;
		 * in-order ones are delivered straight away like tcp_input does */
		for (int i = 0; i < 3000 && nxt != base + total; i++) {
			uint32_t off = (uint32_t)rand() % total, len = 1 + (uint32_t)rand() % 1400;
			if (off + len > total)
				len = total - off;
			ins(&q, nxt, base + off, len);
			tcp_reass_pop(&q, &P, &nxt, deliver, NULL);
		}
		/* then fill every hole in order */
		for (uint32_t off = 0; nxt != base + total; off += 500) {
			ins(&q, nxt, nxt, base + total - nxt < 500 ? base + total - nxt : 500);
			tcp_reass_pop(&q, &P, &nxt, deliver, NULL);
		}
		assert_int_equal(got_len, total);
		for (uint32_t i = 0; i < total; i++)
			assert_int_equal(got[i], (uint8_t)(base + i));
		assert_int_equal(q.nsegs, 0);
		assert_int_equal(P.bytes, 0);
		assert_int_equal(live, 0); /* every buffer delivered or freed */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_overlaps),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_sack_blocks),
		cmocka_unit_test(test_random_stream),
	};
	return cmocka_run_group_tests_name("tcp_reass", tests, NULL, NULL);
}
