/*
 * The SA table's state machine (controlplane/agent/agent_sa.c, issue 10 /
 * S2), every transition, with the control session and the workers' rings
 * replaced by recorders: what would go to the agent (ap_msg) and to the
 * workers (DN_DA_VERDICT, DN_DA_END, DN_ABORT) is checked message by
 * message.  The clock is ours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_rt.h"
#include "agent/agent_sa.h"
#include "conf.h"

/* --- stubs ------------------------------------------------------------------------ */

struct agent_state A;
static uint64_t now_ms = 1000000;

uint64_t agent_now_ms(void) { return now_ms; }

#define LOG_MAX 64
static struct ap_msg sent[LOG_MAX];
static unsigned int n_sent;
static struct dn { uint16_t type; struct cp_conn c; struct sl_da_verdict v; } dn[LOG_MAX];
static unsigned int n_dn;

int agent_ctl_send(struct agent_rt *ag, const struct ap_msg *m)
{
	uint8_t buf[AP_HDR_LEN + AP_MAX_BODY];

	(void)ag;
	/* everything sent must be encodable: the codec checks the fields */
	assert_true(ap_encode(m, buf, sizeof(buf)) > 0);
	assert_true(n_sent < LOG_MAX);
	sent[n_sent++] = *m;
	return 0;
}

void agent_ctl_flush(struct agent_rt *ag) { (void)ag; }

int cp_tls_send(const struct cp_conn *c, uint16_t type, uint32_t flags, const void *a,
		uint32_t alen, const void *b, uint32_t blen)
{
	(void)flags;
	(void)b;
	(void)blen;
	assert_true(n_dn < LOG_MAX);
	dn[n_dn] = (struct dn){ .type = type, .c = *c };
	if (type == SL_TLS_DN_DA_VERDICT) {
		assert_int_equal(alen, sizeof(struct sl_da_verdict));
		memcpy(&dn[n_dn].v, a, sizeof(dn[n_dn].v));
	}
	n_dn++;
	return 0;
}

/* --- fixture ---------------------------------------------------------------------- */

static struct sl_conf conf;

static void reset(uint8_t policy)
{
	memset(&A, 0, sizeof(A));
	memset(&conf, 0, sizeof(conf));
	free(SA.da);
	memset(&SA, 0, sizeof(SA));
	conf.n_vnets = 1;
	conf.n_agents = 1;
	snprintf(conf.vnets[0].name, sizeof(conf.vnets[0].name), "a");
	conf.vnets[0].da_idle_ms = 30000;
	conf.vnets[0].da_idle2_ms = 900000;
	conf.vnets[0].sa_idle_ms = 5000;
	conf.vnets[0].sa_policy = policy;
	conf.agents.enabled = 1;
	conf.agents.hold_timeout_ms = 3000;
	conf.agents.sa_max = 8;
	A.conf = &conf;
	A.n_workers = 2;
	A.n_agents = 1;
	snprintf(A.ag[0].name, sizeof(A.ag[0].name), "site-a");
	A.ag[0].ssl = (SSL *)&conf; /* connected: any non-NULL */
	A.ag[0].hello = 1;
	A.ag[0].caps = AP_CAP_STREAM | AP_CAP_DGRAM;
	agent_sa_init(2, 16);
	n_sent = n_dn = 0;
}

static struct cp_conn worker_da(uint16_t w, uint32_t slot, uint32_t gen)
{
	return (struct cp_conn){ .worker = w, .slot = slot, .gen = gen };
}

static void offer(uint16_t w, uint32_t slot, uint32_t gen, uint16_t sport)
{
	struct cp_conn c = worker_da(w, slot, gen);
	struct sl_da_offer o = { .vnet = 0, .agent = 0, .src = 0xc6120002, .dst = 0xc613c80a,
				 .sport = sport, .dport = 53 };

	agent_sa_offer(&c, &o);
}

static void agent_says(const struct ap_msg *m)
{
	assert_int_equal(agent_sa_msg(&A.ag[0], m), 0);
}

static void dgram_up(uint32_t id, uint64_t session)
{
	struct ap_msg m = { .type = AP_DGRAM_UP };

	m.u.dgram_up = (struct ap_dgram_up){ .id = id, .result = AP_RES_OK, .session = session };
	agent_says(&m);
}

static void da_result(uint32_t id, uint8_t result)
{
	struct ap_msg m = { .type = AP_DA_RESULT };

	m.u.da_result = (struct ap_da_result){ .id = id, .result = result,
					       .relay_port = result == AP_RES_OK ? 40000 : 0 };
	agent_says(&m);
}

static void da_end(uint32_t da)
{
	struct ap_msg m = { .type = AP_DA_END };

	m.u.da_end = (struct ap_da_end_msg){ .da = da, .reason = AP_DA_END_IDLE, .replies = 1 };
	agent_says(&m);
}

static int n_sa(void)
{
	int n = 0;

	for (unsigned int i = 0; i < SA_MAX; i++)
		n += SA.sa[i].state != SA_FREE;
	return n;
}

static struct sa *the_sa(void)
{
	for (unsigned int i = 0; i < SA_MAX; i++)
		if (SA.sa[i].state != SA_FREE)
			return &SA.sa[i];
	return NULL;
}

/* One DA on worker 0 through a fresh SA: DGRAM_OPEN, the session's
 * handshake, DGRAM_UP, DA_OPEN, DA_RESULT OK, the worker's verdict. */
static uint32_t first_da(uint64_t session)
{
	struct cp_conn sc = { .worker = 0, .slot = 77, .gen = 5 };
	uint32_t da;

	n_sent = n_dn = 0;
	offer(0, 3, 1, 40001);
	assert_int_equal(n_sent, 1);
	assert_int_equal(sent[0].type, AP_DGRAM_OPEN);
	assert_int_equal(the_sa()->state, SA_OPENING);
	agent_sa_session_up(0, &sc, session);
	assert_int_equal(the_sa()->state, SA_OPENING); /* DGRAM_UP not yet */
	dgram_up(sent[0].u.dgram_open.id, session);
	assert_int_equal(n_sent, 2);
	assert_int_equal(sent[1].type, AP_DA_OPEN);
	assert_true(sent[1].u.da_open.session == session);
	assert_int_equal(sent[1].u.da_open.idle_ms, 30000);
	assert_int_equal(sent[1].u.da_open.idle2_ms, 900000);
	da = sent[1].u.da_open.da;
	assert_int_equal(da, SL_DA_ID(0, 3, 1));
	assert_int_equal(the_sa()->state, SA_ACTIVE);
	assert_int_equal(the_sa()->flows, 1);
	da_result(sent[1].u.da_open.id, AP_RES_OK);
	assert_int_equal(n_dn, 1);
	assert_int_equal(dn[0].type, SL_TLS_DN_DA_VERDICT);
	assert_int_equal(dn[0].v.result, AP_RES_OK);
	assert_int_equal(dn[0].v.sess_slot, 77);
	assert_int_equal(dn[0].v.sess_gen, 5);
	assert_int_equal(dn[0].v.relay_port, 40000);
	assert_int_equal(dn[0].c.slot, 3);
	return da;
}

/* --- tests ---------------------------------------------------------------------------- */

static void test_no_agent(void **state)
{
	(void)state;
	reset(SL_SA_IDLE);
	A.ag[0].caps = AP_CAP_STREAM; /* an agent without DGRAM */
	offer(0, 1, 1, 1000);
	assert_int_equal(n_sent, 0);
	assert_int_equal(n_dn, 1);
	assert_int_equal(dn[0].v.result, SL_AGENT_NO_AGENT);
	assert_int_equal(n_sa(), 0);
}

static void test_open_bind_reuse_idle_sweep(void **state)
{
	uint32_t da1, da2;

	(void)state;
	reset(SL_SA_IDLE);
	da1 = first_da(0x1111);
	/* a second DA of the same worker: correlated, no handshake */
	n_sent = n_dn = 0;
	offer(0, 4, 1, 40002);
	assert_int_equal(n_sent, 1);
	assert_int_equal(sent[0].type, AP_DA_OPEN);
	da2 = sent[0].u.da_open.da;
	assert_int_equal(the_sa()->flows, 2);
	assert_int_equal(SA.handshakes, 1);
	da_result(da2, AP_RES_OK);
	/* the agent ages both out: the worker follows, the count falls */
	n_dn = 0;
	da_end(da1);
	assert_int_equal(n_dn, 1);
	assert_int_equal(dn[0].type, SL_TLS_DN_DA_END);
	assert_int_equal(the_sa()->flows, 1);
	assert_int_equal(the_sa()->state, SA_ACTIVE);
	da_end(da2);
	assert_int_equal(the_sa()->flows, 0);
	assert_int_equal(the_sa()->state, SA_IDLE);
	da_end(da2); /* ending it twice is not an error */
	/* in use, or idle within sa_idle_ms: never swept */
	now_ms += 4000;
	agent_sa_tick(now_ms);
	assert_int_equal(n_sa(), 1);
	/* a new DA in the window reuses the SA without a handshake */
	n_sent = 0;
	offer(0, 5, 1, 40003);
	assert_int_equal(sent[0].type, AP_DA_OPEN);
	assert_int_equal(SA.handshakes, 1);
	assert_int_equal(SA.reuses, 1);
	assert_int_equal(the_sa()->state, SA_ACTIVE);
	/* an SA in use is never expired for idleness, however quiet */
	now_ms += 60000;
	agent_sa_tick(now_ms);
	assert_int_equal(n_sa(), 1);
	da_result(sent[0].u.da_open.id, AP_RES_OK);
	da_end(sent[0].u.da_open.da);
	assert_int_equal(the_sa()->state, SA_IDLE);
	/* the sweep after sa_idle_ms: DGRAM_CLOSE to the agent */
	n_sent = 0;
	now_ms += 5000;
	agent_sa_tick(now_ms);
	assert_int_equal(n_sa(), 0);
	assert_int_equal(n_sent, 1);
	assert_int_equal(sent[0].type, AP_DGRAM_CLOSE);
	assert_true(sent[0].u.dgram_close.session == 0x1111);
}

static void test_delete_at_zero(void **state)
{
	uint32_t da;

	(void)state;
	reset(SL_SA_DELETE);
	da = first_da(0x2222);
	n_sent = 0;
	da_end(da);
	assert_int_equal(n_sa(), 0);
	assert_int_equal(n_sent, 1);
	assert_int_equal(sent[0].type, AP_DGRAM_CLOSE);
}

static void test_up_before_session(void **state)
{
	struct cp_conn sc = { .worker = 0, .slot = 9, .gen = 2 };

	(void)state;
	reset(SL_SA_IDLE);
	offer(0, 1, 1, 1000);
	dgram_up(sent[0].u.dgram_open.id, 0x3333); /* the control message first */
	assert_int_equal(n_sent, 1);
	agent_sa_session_up(0, &sc, 0x3333);
	assert_int_equal(n_sa(), 1);
	assert_int_equal(n_sent, 2);
	assert_int_equal(sent[1].type, AP_DA_OPEN);
	assert_int_equal(the_sa()->c.slot, 9);
}

static void test_lands_on_other_worker(void **state)
{
	struct cp_conn sc = { .worker = 0, .slot = 9, .gen = 2 };

	(void)state;
	reset(SL_SA_IDLE);
	offer(1, 1, 1, 1000); /* a DA on worker 1 */
	agent_sa_session_up(0, &sc, 0x4444); /* its SA lands on worker 0 */
	dgram_up(sent[0].u.dgram_open.id, 0x4444);
	/* the DA still waits, and another SA is asked for */
	assert_int_equal(n_sent, 2);
	assert_int_equal(sent[1].type, AP_DGRAM_OPEN);
	assert_int_equal(SA.handshakes, 2);
	assert_int_equal(n_dn, 0);
	/* it lands on worker 1: the DA goes out on it */
	sc = (struct cp_conn){ .worker = 1, .slot = 4, .gen = 8 };
	agent_sa_session_up(0, &sc, 0x5555);
	dgram_up(sent[1].u.dgram_open.id, 0x5555);
	assert_int_equal(sent[2].type, AP_DA_OPEN);
	assert_true(sent[2].u.da_open.session == 0x5555);
	assert_int_equal(n_sa(), 2);
}

/* Under sa_policy "delete" an SA that landed where no DA wanted it goes as
 * soon as nothing waits and no negotiation is in flight (3 workers: several
 * DGRAM_OPENs race, the extra ones must not linger until sa_idle_ms). */
static void test_delete_unwanted_landing(void **state)
{
	struct cp_conn sc = { .worker = 2, .slot = 9, .gen = 2 };
	uint32_t open1;

	(void)state;
	reset(SL_SA_DELETE);
	offer(1, 1, 1, 1000); /* a DA on worker 1 */
	open1 = sent[0].u.dgram_open.id;
	agent_sa_session_up(0, &sc, 0x6666); /* lands on worker 2 */
	dgram_up(open1, 0x6666);
	/* the DA still waits: kept while another SA is negotiated */
	assert_int_equal(sent[1].type, AP_DGRAM_OPEN);
	assert_int_equal(n_sa(), 2);
	sc = (struct cp_conn){ .worker = 1, .slot = 4, .gen = 8 };
	agent_sa_session_up(0, &sc, 0x7777);
	n_sent = 0;
	dgram_up(sent[1].u.dgram_open.id, 0x7777);
	/* the DA is placed on worker 1's SA, worker 2's goes at once */
	assert_int_equal(n_sa(), 1);
	assert_true(the_sa()->session == 0x7777);
	assert_int_equal(n_sent, 2);
	assert_int_equal(sent[0].type, AP_DA_OPEN);
	assert_int_equal(sent[1].type, AP_DGRAM_CLOSE);
	assert_true(sent[1].u.dgram_close.session == 0x6666);
}

static void test_refuse_nostream_busy(void **state)
{
	uint32_t id;

	(void)state;
	reset(SL_SA_IDLE);
	first_da(0x6666);
	/* REFUSE: the worker discards, the SA's count falls back */
	n_sent = n_dn = 0;
	offer(0, 6, 1, 2000);
	id = sent[0].u.da_open.id;
	assert_int_equal(the_sa()->flows, 2);
	da_result(id, AP_RES_REFUSE);
	assert_int_equal(dn[0].v.result, AP_RES_REFUSE);
	assert_int_equal(the_sa()->flows, 1);
	assert_int_equal(SA.das_refused, 1);
	/* BUSY: host unreachable for the client */
	n_sent = n_dn = 0;
	offer(0, 7, 1, 2001);
	da_result(sent[0].u.da_open.id, AP_RES_BUSY);
	assert_int_equal(dn[0].v.result, AP_RES_BUSY);
	assert_int_equal(the_sa()->flows, 1);
	/* NO_STREAM: the SA is broken; it and its DAs go */
	n_sent = n_dn = 0;
	offer(0, 8, 1, 2002);
	da_result(sent[0].u.da_open.id, AP_RES_NO_STREAM);
	assert_int_equal(n_sa(), 0);
	assert_int_equal(n_dn, 2); /* the open DA ends, the opening one fails */
}

static void test_conn_closed_and_agent_lost(void **state)
{
	struct cp_conn sc = { .worker = 0, .slot = 77, .gen = 5 };

	(void)state;
	reset(SL_SA_IDLE);
	first_da(0x7777);
	n_dn = 0;
	assert_int_equal(agent_sa_conn_closed(&sc), 1);
	assert_int_equal(n_sa(), 0);
	assert_int_equal(n_dn, 1);
	assert_int_equal(dn[0].type, SL_TLS_DN_DA_END);
	sc.slot = 78;
	assert_int_equal(agent_sa_conn_closed(&sc), 0); /* not an SA's */
	/* agent lost: its SAs are reset, waiting DAs told "no agent" */
	first_da(0x8888);
	n_sent = n_dn = 0;
	offer(1, 2, 1, 3000); /* waits for an SA on worker 1 */
	n_dn = 0;
	agent_sa_agent_lost(0);
	assert_int_equal(n_sa(), 0);
	{
		int aborts = 0, ends = 0, noagent = 0;

		for (unsigned int i = 0; i < n_dn; i++) {
			aborts += dn[i].type == SL_TLS_DN_ABORT;
			ends += dn[i].type == SL_TLS_DN_DA_END;
			noagent += dn[i].type == SL_TLS_DN_DA_VERDICT &&
				   dn[i].v.result == SL_AGENT_NO_AGENT;
		}
		assert_int_equal(aborts, 1);
		assert_int_equal(ends, 1);
		assert_int_equal(noagent, 1);
	}
}

static void test_open_timeout_busy_flush(void **state)
{
	struct ap_msg m = { .type = AP_DGRAM_UP };

	(void)state;
	reset(SL_SA_IDLE);
	/* a DGRAM_OPEN never answered: given up after SA_OPEN_WAIT_MS */
	offer(0, 1, 1, 1000);
	now_ms += SA_OPEN_WAIT_MS;
	agent_sa_tick(now_ms);
	assert_int_equal(n_sa(), 0);
	/* DGRAM_UP BUSY: asked again, up to the DA's bound of tries, then BUSY */
	reset(SL_SA_IDLE);
	offer(0, 1, 1, 1000);
	for (unsigned int k = 0; k < 100 && n_dn == 0; k++) {
		m.u.dgram_up = (struct ap_dgram_up){ .id = sent[n_sent - 1].u.dgram_open.id,
						     .result = AP_RES_BUSY };
		agent_says(&m);
	}
	assert_int_equal(n_dn, 1);
	assert_int_equal(dn[0].v.result, AP_RES_BUSY);
	assert_int_equal(SA.handshakes, SA_OPEN_TRIES_PER_WORKER * 2);
	/* sa flush: marked, deleted by the tick, DAs end */
	reset(SL_SA_IDLE);
	first_da(0x9999);
	the_sa()->close_sent = 2;
	n_sent = n_dn = 0;
	agent_sa_tick(now_ms);
	assert_int_equal(n_sa(), 0);
	assert_int_equal(sent[0].type, AP_DGRAM_CLOSE);
	assert_int_equal(dn[0].type, SL_TLS_DN_DA_END);
	assert_int_equal(SA.flushes, 1);
}

static void test_worker_reuses_entry(void **state)
{
	(void)state;
	reset(SL_SA_IDLE);
	first_da(0xaaaa);
	/* the worker freed entry 3 (its session looked gone) and made a new
	 * DA there: the old one is released */
	n_sent = 0;
	offer(0, 3, 2, 40009);
	assert_int_equal(the_sa()->flows, 1);
	assert_int_equal(sent[0].u.da_open.da, SL_DA_ID(0, 3, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_agent),
		cmocka_unit_test(test_open_bind_reuse_idle_sweep),
		cmocka_unit_test(test_delete_at_zero),
		cmocka_unit_test(test_up_before_session),
		cmocka_unit_test(test_lands_on_other_worker),
		cmocka_unit_test(test_delete_unwanted_landing),
		cmocka_unit_test(test_refuse_nostream_busy),
		cmocka_unit_test(test_conn_closed_and_agent_lost),
		cmocka_unit_test(test_open_timeout_busy_flush),
		cmocka_unit_test(test_worker_reuses_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
