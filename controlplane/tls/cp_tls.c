/*
 * Handshakes for the workers (DESIGN.md 5).  One thread: it takes the bytes
 * clients sent from each worker's ring, feeds them to an OpenSSL SSL on
 * memory BIOs, and sends back what OpenSSL writes.  When the handshake
 * completes it sends the record state and wipes its own copy.
 *
 * How the record state is learned (DESIGN.md 5 asks to pick one way):
 *  - TLS 1.3: the traffic secrets from the key-log callback (the worker
 *    derives key and IV itself, RFC 8446 7.3, and can then do KeyUpdate).
 *    Sequence numbers: nothing from the client under its application key
 *    has been read (OpenSSL reads no further than the client's Finished;
 *    what follows stays in the memory BIO and goes to the worker with the
 *    keys), and the server's application-key records so far are exactly the
 *    records written by the SSL_do_handshake call that completed the
 *    handshake (the NewSessionTickets: the server's Finished went out under
 *    the handshake key in an earlier call).
 *  - TLS 1.2: the key block from the master secret (RFC 5246 6.3, OpenSSL's
 *    TLS1-PRF); both sides have sent exactly one protected record, their
 *    Finished, so both sequence numbers are 1.
 * Sessions stay resumable: tickets under per-application keys that rotate
 * (the previous key still opens what it sealed), and TLS 1.2 session IDs
 * in the application's OpenSSL cache, one per application and so shared by
 * every worker.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <sluice/agent_proto.h>
#include <sluice/tls_msg.h>

#include "aead.h"
#include "agent/agent_ctl.h"
#include "cp_tls.h"
#include "dp_link.h"
#include "log.h"
#include "lstp/lstp_mid.h"
#include "tls_keys.h"

#define BURST 32
#define TICKET_ROTATE_S 3600
/* Idle polling backs off from 20 us to 1 ms: a handshake message waits at
 * most that long, and an idle sluice-cp costs next to nothing. */
#define IDLE_SLEEP_MIN_US 20
#define IDLE_SLEEP_MAX_US 1000

struct tkey {
	uint8_t name[16], aes[32], hmac[32];
};

struct app_tls {
	SSL_CTX *ctx;
	int client;            /* originate: we are the TLS client */
	char server_ip[16];    /* what the server's certificate must name */
	struct tkey tk[2]; /* current, previous */
	uint8_t has_prev;
	time_t born;
};

struct sess {
	uint16_t worker, app;
	uint32_t slot, gen;
	SSL *ssl;
	BIO *rb, *wb;
	struct tls_keylog kl;     /* TLS 1.3 application traffic secrets */
	uint32_t dn_flags;        /* SL_TLS_F_* on what goes down */
	void *ctl;                /* an agent's control session: it stays here (S4) */
};

static struct {
	struct dp_link *dp;
	struct sl_shm *shm;
	unsigned int n_workers;
	uint32_t n_slots[SL_MAX_WORKERS];
	struct sess **by_slot[SL_MAX_WORKERS];
	uint32_t *done_gen[SL_MAX_WORKERS]; /* gen + 1 of the slot's completed handshake */
	struct rte_ring *up[SL_MAX_WORKERS], *dn[SL_MAX_WORKERS];
	struct rte_mempool *pool[SL_MAX_WORKERS];
	const struct sl_flow_zone *zone[SL_MAX_WORKERS];
	pthread_t thr;
	volatile int stop;
	int running;
	pthread_mutex_t mu; /* apps[].ctx: the main thread loads, this thread uses */
	struct app_tls apps[SL_APPS_MAX];
	int ex_sess, ex_app;
	unsigned int ticks;
} T = { .mu = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void tls_once(void)
{
	T.ex_sess = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	T.ex_app = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* --- messages to a worker -------------------------------------------------- */

/* Header, then `a` (alen bytes), then what `bio` holds (up to blen). */
static int dn_send(const struct sess *x, uint16_t type, const void *a, uint32_t alen, BIO *bio,
		   uint32_t blen)
{
	struct rte_mempool *mp = T.pool[x->worker];
	struct rte_mbuf *head = rte_pktmbuf_alloc(mp), *m = head;
	struct sl_tls_msg *h;

	if (!head)
		return -ENOBUFS;
	h = (struct sl_tls_msg *)rte_pktmbuf_append(head, sizeof(*h));
	*h = (struct sl_tls_msg){ .version = SL_TLS_MSG_VERSION, .type = type, .app = x->app,
				  .worker = x->worker, .slot = x->slot, .gen = x->gen,
				  .len = alen + blen, .flags = x->dn_flags };
	if (alen) {
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(head, (uint16_t)alen);

		if (!p)
			goto fail;
		memcpy(p, a, alen);
	}
	while (blen) {
		uint16_t room = rte_pktmbuf_tailroom(m);
		int n;

		if (room == 0) {
			struct rte_mbuf *nm = rte_pktmbuf_alloc(mp);

			if (!nm || rte_pktmbuf_chain(head, nm) != 0) {
				rte_pktmbuf_free(nm);
				goto fail;
			}
			m = nm;
			continue;
		}
		n = BIO_read(bio, rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len),
			     (int)(blen < room ? blen : room));
		if (n <= 0)
			break;
		m->data_len = (uint16_t)(m->data_len + n);
		head->pkt_len += (uint32_t)n;
		blen -= (uint32_t)n;
	}
	if (rte_ring_sp_enqueue(T.dn[x->worker], head) != 0)
		goto fail;
	return 0;
fail:
	explicit_bzero(rte_pktmbuf_mtod(head, uint8_t *), head->data_len);
	rte_pktmbuf_free(head);
	return -ENOBUFS;
}

/* --- per-application contexts ------------------------------------------------ */

static void tkey_new(struct tkey *k)
{
	RAND_bytes(k->name, sizeof(k->name));
	RAND_priv_bytes(k->aes, sizeof(k->aes));
	RAND_priv_bytes(k->hmac, sizeof(k->hmac));
}

/* RFC 5077 4 ticket protection, keys rotated by this thread (ticket_rotate). */
static int ticket_cb(SSL *s, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
		     EVP_MAC_CTX *hctx, int enc)
{
	struct app_tls *a = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(s), T.ex_app);
	const struct tkey *k = NULL;
	OSSL_PARAM p[3];
	int ret = 1;

	if (!a)
		return -1;
	if (enc) {
		k = &a->tk[0];
		memcpy(name, k->name, 16);
		if (RAND_bytes(iv, 16) != 1)
			return -1;
	} else if (memcmp(name, a->tk[0].name, 16) == 0) {
		k = &a->tk[0];
	} else if (a->has_prev && memcmp(name, a->tk[1].name, 16) == 0) {
		k = &a->tk[1];
		ret = 2; /* good, but issue a ticket under the current key */
	} else {
		return 0; /* unknown or expired key: a full handshake */
	}
	p[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac, 32);
	p[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	p[2] = OSSL_PARAM_construct_end();
	if (EVP_CipherInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv, enc) != 1 ||
	    EVP_MAC_CTX_set_params(hctx, p) != 1)
		return -1;
	return ret;
}

static void ticket_rotate(time_t now)
{
	for (unsigned int i = 0; i < SL_APPS_MAX; i++) {
		struct app_tls *a = &T.apps[i];

		if (!a->ctx || now - a->born < TICKET_ROTATE_S)
			continue;
		a->tk[1] = a->tk[0];
		a->has_prev = 1;
		tkey_new(&a->tk[0]);
		a->born = now;
	}
}

static void keylog_cb(const SSL *ssl, const char *line)
{
	struct sess *x = SSL_get_ex_data(ssl, T.ex_sess);

	if (x)
		tls_keylog_line(&x->kl, line);
}

static void ssl_err(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char buf[160];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s %s: %s", what, path, e ? buf : "failed");
	ERR_clear_error();
}

/* Reverse mode: a client context that verifies the server against the
 * application's CA and its address (RFC 6125 6.2: the IP in subjectAltName). */
static int app_load_client(unsigned int idx, const struct sl_app_def *def, char *err,
			   size_t errlen)
{
	struct app_tls *a = &T.apps[idx];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method()), *old;
	struct in_addr ia = { .s_addr = htonl(def->server) };

	if (!ctx) {
		ssl_err(err, errlen, "SSL_CTX_new", "");
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_set_cipher_list(ctx, tls_cipher_list) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, tls_ciphersuites) != 1) {
		ssl_err(err, errlen, "cipher list", "");
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, def->ca, NULL) != 1) {
		ssl_err(err, errlen, "CA", def->ca);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	pthread_mutex_lock(&T.mu);
	old = a->ctx;
	a->client = 1;
	inet_ntop(AF_INET, &ia, a->server_ip, sizeof(a->server_ip));
	SSL_CTX_set_ex_data(ctx, T.ex_app, a);
	a->ctx = ctx;
	pthread_mutex_unlock(&T.mu);
	SSL_CTX_free(old);
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -EINVAL;
}

int cp_tls_app_load(unsigned int idx, const struct sl_app_def *def, char *err, size_t errlen)
{
	struct app_tls *a;
	SSL_CTX *ctx, *old;

	pthread_once(&once, tls_once);
	if (idx >= SL_APPS_MAX)
		return -EINVAL;
	if (def->mode == SL_APP_ORIGINATE)
		return app_load_client(idx, def, err, errlen);
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		ssl_err(err, errlen, "SSL_CTX_new", "");
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* no renegotiation: the worker owns the records after the handshake */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_set_cipher_list(ctx, tls_cipher_list) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, tls_ciphersuites) != 1) {
		ssl_err(err, errlen, "cipher list", "");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, def->cert) != 1) {
		ssl_err(err, errlen, "certificate", def->cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, def->key, SSL_FILETYPE_PEM) != 1) {
		ssl_err(err, errlen, "key", def->key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, "key does not match certificate", def->key);
		goto fail;
	}
	if (def->mode == SL_APP_AGENTS && agent_ctl_ctx_setup(ctx, def, err, errlen) != 0)
		goto fail;
	SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)def->name,
				       (unsigned int)strnlen(def->name, SL_APP_NAME_LEN));
	if (def->mode != SL_APP_AGENTS)
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
	a = &T.apps[idx];
	pthread_mutex_lock(&T.mu);
	old = a->ctx;
	a->client = 0;
	tkey_new(&a->tk[0]);
	a->has_prev = 0;
	a->born = time(NULL);
	SSL_CTX_set_ex_data(ctx, T.ex_app, a);
	a->ctx = ctx;
	pthread_mutex_unlock(&T.mu);
	SSL_CTX_free(old);
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -EINVAL;
}

void cp_tls_app_unload(unsigned int idx)
{
	SSL_CTX *ctx;

	if (idx >= SL_APPS_MAX)
		return;
	pthread_mutex_lock(&T.mu);
	ctx = T.apps[idx].ctx;
	T.apps[idx].ctx = NULL;
	pthread_mutex_unlock(&T.mu);
	/* handshakes in flight keep their own reference */
	SSL_CTX_free(ctx);
}

/* --- sessions -------------------------------------------------------------- */

static void sess_free(struct sess *x, int keep_session)
{
	if (x->ssl) {
		/* a session that completed stays in the cache for resumption;
		 * OpenSSL drops those not shut down properly */
		if (keep_session)
			SSL_set_shutdown(x->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(x->ssl); /* frees both BIOs */
	}
	T.by_slot[x->worker][x->slot] = NULL;
	OPENSSL_cleanse(x, sizeof(*x));
	free(x);
}

static struct sess *sess_new(const struct sl_tls_msg *h)
{
	struct sess *x;
	SSL_CTX *ctx;
	int client;

	if (h->app >= SL_APPS_MAX)
		return NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->worker = h->worker;
	x->app = h->app;
	x->slot = h->slot;
	x->gen = h->gen;
	pthread_mutex_lock(&T.mu);
	ctx = T.apps[h->app].ctx;
	if (ctx)
		x->ssl = SSL_new(ctx);
	client = T.apps[h->app].client;
	if (x->ssl && client)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(x->ssl), T.apps[h->app].server_ip);
	pthread_mutex_unlock(&T.mu);
	if (x->ssl) {
		x->rb = BIO_new(BIO_s_mem());
		x->wb = BIO_new(BIO_s_mem());
	}
	if (!x->ssl || !x->rb || !x->wb) {
		BIO_free(x->rb);
		BIO_free(x->wb);
		SSL_free(x->ssl);
		free(x);
		return NULL;
	}
	BIO_set_mem_eof_return(x->rb, -1); /* empty means "more to come" */
	SSL_set_bio(x->ssl, x->rb, x->wb);
	if (client)
		SSL_set_connect_state(x->ssl);
	else
		SSL_set_accept_state(x->ssl);
	SSL_set_ex_data(x->ssl, T.ex_sess, x);
	T.by_slot[x->worker][x->slot] = x;
	return x;
}

static void stat_add(uint16_t app, size_t off, uint64_t n)
{
	if (app < SL_APPS_MAX)
		__atomic_fetch_add((uint64_t *)((uint8_t *)&T.shm->apps.a[app] + off), n,
				   __ATOMIC_RELAXED);
}

static void fail(struct sess *x)
{
	long n = BIO_pending(x->wb);

	stat_add(x->app, offsetof(struct sl_app_def, handshake_errors), 1);
	if (SSL_get_verify_result(x->ssl) != X509_V_OK)
		stat_add(x->app, offsetof(struct sl_app_def, verify_failures), 1);
	/* OpenSSL's alert, if it wrote one, goes to the peer */
	dn_send(x, SL_TLS_DN_FAIL, NULL, 0, x->wb, n > 0 ? (uint32_t)n : 0);
	ERR_clear_error();
	sess_free(x, 0);
}

static int is_agents(uint16_t app)
{
	return app < SL_APPS_MAX && T.shm->apps.a[app].mode == SL_APP_AGENTS;
}

static struct cp_conn conn_of(const struct sess *x)
{
	return (struct cp_conn){ .worker = x->worker, .app = x->app, .slot = x->slot,
				 .gen = x->gen };
}

static void complete_keys(struct sess *x);

/* S4: a handshake on the agents' listener.  A control session stays here;
 * a STREAM session's keys go to its worker, which keeps it idle. */
static void complete_agent(struct sess *x)
{
	struct cp_conn c = conn_of(x);
	const char *why = "";
	uint64_t id = 0;
	int agent = -1;
	long n;

	switch (agent_ctl_classify(x->ssl, &agent, &id, &why)) {
	case AGENT_CONTROL:
		/* OpenSSL's last flight, then the worker relays bytes both ways */
		n = BIO_pending(x->wb);
		stat_add(x->app, offsetof(struct sl_app_def, handshakes), 1);
		if ((n > 0 && dn_send(x, SL_TLS_DN_DATA, NULL, 0, x->wb, (uint32_t)n) != 0) ||
		    dn_send(x, SL_TLS_DN_CP, NULL, 0, NULL, 0) != 0) {
			fail(x);
			return;
		}
		x->ctl = agent_ctl_control_up(agent, &c, x->ssl);
		/* the HELLO may have come with the Finished */
		if (BIO_pending(x->rb) > 0 && agent_ctl_control_input(x->ctl) != 0)
			cp_tls_close(&c);
		return;
	case AGENT_STREAM:
		x->dn_flags = SL_TLS_F_STREAM;
		complete_keys(x);
		agent_ctl_stream_up(agent, &c, id);
		return;
	case AGENT_DGRAM:
		x->dn_flags = SL_TLS_F_DGRAM;
		stat_add(x->app, offsetof(struct sl_app_def, handshakes), 1);
		complete_keys(x);
		agent_ctl_dgram_up(agent, &c, id);
		return;
	default:
		cp_log("agents: connection from worker %u refused: %s", x->worker, why);
		stat_add(x->app, offsetof(struct sl_app_def, verify_failures), 1);
		fail(x);
		return;
	}
}

static void complete(struct sess *x)
{
	if (is_agents(x->app))
		complete_agent(x);
	else
		complete_keys(x);
}

static void complete_keys(struct sess *x)
{
	struct sl_tls_keys k;
	const uint8_t *out;
	long nout = BIO_get_mem_data(x->wb, (char **)&out);
	long left;

	if (tls_handoff_keys(x->ssl, &x->kl, out, nout, &k) != 0) {
		OPENSSL_cleanse(&k, sizeof(k));
		fail(x);
		return;
	}
	/* what OpenSSL wrote last (Finished or tickets), then the keys with
	 * whatever the client sent after its Finished */
	left = BIO_pending(x->rb);
	if ((nout > 0 && dn_send(x, SL_TLS_DN_DATA, NULL, 0, x->wb, (uint32_t)nout) != 0) ||
	    dn_send(x, SL_TLS_DN_KEYS, &k, sizeof(k), x->rb, left > 0 ? (uint32_t)left : 0) != 0) {
		OPENSSL_cleanse(&k, sizeof(k));
		fail(x);
		return;
	}
	OPENSSL_cleanse(&k, sizeof(k));
	stat_add(x->app, offsetof(struct sl_app_def, handshakes), 1);
	if (SSL_session_reused(x->ssl))
		stat_add(x->app, offsetof(struct sl_app_def, resumptions), 1);
	T.done_gen[x->worker][x->slot] = x->gen + 1;
	sess_free(x, 1);
}

/* Send the bytes of `m` back as SL_TLS_DN_RECORDS (copied into an mbuf of
 * the worker's pool: `m` itself is freed by the caller). */
static int bounce(const struct sess *x, struct rte_mbuf *m)
{
	BIO *b = BIO_new(BIO_s_mem());
	int rc;

	if (!b)
		return -ENOMEM;
	for (struct rte_mbuf *s = m; s; s = s->next)
		BIO_write(b, rte_pktmbuf_mtod(s, void *), s->data_len);
	rc = dn_send(x, SL_TLS_DN_RECORDS, NULL, 0, b, (uint32_t)BIO_pending(b));
	BIO_free(b);
	return rc;
}

static void up_data(const struct sl_tls_msg *h, struct rte_mbuf *m)
{
	struct sess *x = T.by_slot[h->worker][h->slot];
	int r;

	if (x && x->gen != h->gen) {
		sess_free(x, 0); /* the slot was reused: the old one is gone */
		x = NULL;
	}
	if (x && x->ctl) {
		/* an agent's control session: its messages are for agent_ctl */
		for (struct rte_mbuf *s = m; s; s = s->next) {
			uint32_t off = s == m ? sizeof(*h) : 0;

			if (s->data_len > off)
				BIO_write(x->rb, rte_pktmbuf_mtod_offset(s, uint8_t *, off),
					  (int)(s->data_len - off));
		}
		if (agent_ctl_control_input(x->ctl) != 0) {
			struct cp_conn c = conn_of(x);

			cp_tls_close(&c);
		}
		return;
	}
	if (!x && T.done_gen[h->worker][h->slot] == h->gen + 1) {
		/* the client's first records crossed our keys on the way: they
		 * belong to the worker now */
		struct sess tmp = { .worker = h->worker, .app = h->app, .slot = h->slot,
				    .gen = h->gen };
		struct rte_mbuf *s = m;

		rte_pktmbuf_adj(s, sizeof(*h));
		if (bounce(&tmp, s) != 0)
			dn_send(&tmp, SL_TLS_DN_FAIL, NULL, 0, NULL, 0);
		return;
	}
	if (!x) {
		struct sess tmp = { .worker = h->worker, .app = h->app, .slot = h->slot,
				    .gen = h->gen };

		x = sess_new(h);
		if (!x) {
			stat_add(h->app, offsetof(struct sl_app_def, handshake_errors), 1);
			dn_send(&tmp, SL_TLS_DN_FAIL, NULL, 0, NULL, 0);
			return;
		}
	}
	for (struct rte_mbuf *s = m; s; s = s->next) {
		uint32_t off = s == m ? sizeof(*h) : 0;

		if (s->data_len > off)
			BIO_write(x->rb, rte_pktmbuf_mtod_offset(s, uint8_t *, off),
				  (int)(s->data_len - off));
	}
	r = SSL_do_handshake(x->ssl);
	if (r == 1) {
		complete(x);
		return;
	}
	if (SSL_get_error(x->ssl, r) == SSL_ERROR_WANT_READ) {
		long n = BIO_pending(x->wb);

		if (n > 0 && dn_send(x, SL_TLS_DN_DATA, NULL, 0, x->wb, (uint32_t)n) != 0)
			fail(x);
		return;
	}
	fail(x);
}

/* A message's fixed-size body (struct of n bytes) into out: 0, or -1 when
 * it is shorter. */
static int up_fixed(const struct rte_mbuf *m, const struct sl_tls_msg *h, void *out, size_t n)
{
	const void *p = h->len >= n ? rte_pktmbuf_read(m, sizeof(*h), (uint32_t)n, out) : NULL;

	if (!p)
		return -1;
	if (p != out)
		memcpy(out, p, n);
	return 0;
}

static void up_msg(unsigned int w, struct rte_mbuf *m)
{
	const struct sl_tls_msg *h = rte_pktmbuf_mtod(m, const struct sl_tls_msg *);
	const struct cp_conn c = { .worker = (uint16_t)w, .app = h->app, .slot = h->slot,
				   .gen = h->gen };

	if (m->data_len < sizeof(*h) || h->version != SL_TLS_MSG_VERSION || h->worker != w ||
	    h->slot >= T.n_slots[w]) {
		rte_pktmbuf_free(m);
		return;
	}
	if (h->type == SL_TLS_UP_DATA) {
		up_data(h, m);
	} else if (h->type == SL_TLS_UP_RECORD && h->len >= 1) {
		/* the worker ends the connection; this is where it is seen */
		uint8_t buf[4] = { 0 };
		uint32_t n = h->len < sizeof(buf) ? h->len : (uint32_t)sizeof(buf);
		const uint8_t *p = rte_pktmbuf_read(m, sizeof(*h), n, buf);

		stat_add(h->app, offsetof(struct sl_app_def, escalated), 1);
		if (!p)
			cp_log("tls: app %u, worker %u: a short unhandled record", h->app, w);
		else if (p[0] == 21 && n >= 3)
			cp_log("tls: app %u, worker %u: the client sent alert %u (level %u); connection closed",
			       h->app, w, p[2], p[1]);
		else
			cp_log("tls: app %u, worker %u: unhandled record type %u (%u bytes, first %u); "
			       "connection closed", h->app, w, p[0], h->len - 1, n > 1 ? p[1] : 0);
	} else if (h->type == SL_TLS_UP_CLOSE) {
		struct sess *x = T.by_slot[w][h->slot];

		if (is_agents(h->app))
			agent_ctl_conn_closed(&c);
		if (x && x->gen == h->gen)
			sess_free(x, 0);
	} else if (h->type == SL_TLS_UP_OFFER) {
		struct sl_agent_offer o;

		if (up_fixed(m, h, &o, sizeof(o)) == 0)
			agent_ctl_offer(&c, &o);
	} else if (h->type == SL_TLS_UP_DA_OFFER) {
		struct sl_da_offer o;

		if (up_fixed(m, h, &o, sizeof(o)) == 0)
			agent_ctl_da_offer(&c, &o);
	} else if (h->type == SL_TLS_UP_LSTP_HELLO) {
		static uint8_t buf[sizeof(struct sl_lstp_hello) + 2048];
		const uint8_t *p;

		if (h->len >= sizeof(struct sl_lstp_hello) && h->len <= sizeof(buf) &&
		    (p = rte_pktmbuf_read(m, sizeof(*h), h->len, buf))) {
			struct sl_lstp_hello q;

			memcpy(&q, p, sizeof(q));
			if (q.len == h->len - sizeof(q))
				lstp_mid_hello(&c, &q, p + sizeof(q));
		}
	} else if (h->type == SL_TLS_UP_LSTP_MOVED) {
		struct sl_lstp_moved q;

		if (up_fixed(m, h, &q, sizeof(q)) == 0)
			lstp_mid_moved(&c, &q);
	} else if (h->type == SL_TLS_UP_LSTP_ONWARD) {
		struct sl_lstp_moved q;

		if (up_fixed(m, h, &q, sizeof(q)) == 0)
			lstp_mid_onward_up(&c, &q);
	} else if (h->type == SL_TLS_UP_LSTP_CLOSE) {
		struct sl_lstp_close q;

		if (up_fixed(m, h, &q, sizeof(q)) == 0)
			lstp_mid_closed(&c, &q);
	} else if (h->type == SL_TLS_UP_PING) {
		static uint8_t buf[sizeof(struct sl_agent_ping) + AP_MAX_PING_DATA];
		const uint8_t *p;

		if (h->len >= sizeof(struct sl_agent_ping) && h->len <= sizeof(buf) &&
		    (p = rte_pktmbuf_read(m, sizeof(*h), h->len, buf))) {
			struct sl_agent_ping q;

			memcpy(&q, p, sizeof(q));
			agent_ctl_ping(&c, &q, p + sizeof(q), h->len - (uint32_t)sizeof(q));
		}
	}
	rte_pktmbuf_free(m);
}

static void *thread_main(void *arg)
{
	time_t last = time(NULL);
	unsigned int idle_us = IDLE_SLEEP_MIN_US;

	(void)arg;
	while (!T.stop) {
		unsigned int busy = 0;
		time_t now;

		for (unsigned int w = 0; w < T.n_workers; w++) {
			struct rte_mbuf *m[BURST];
			unsigned int n = rte_ring_sc_dequeue_burst(T.up[w], (void **)m, BURST, NULL);

			for (unsigned int i = 0; i < n; i++)
				up_msg(w, m[i]);
			busy += n;
		}
		if (++T.ticks % 64 == 0 || !busy) {
			agent_ctl_tick();
			lstp_mid_tick();
		}
		now = time(NULL);
		if (now != last) {
			ticket_rotate(now);
			last = now;
		}
		if (busy) {
			idle_us = IDLE_SLEEP_MIN_US;
		} else {
			usleep(idle_us);
			if (idle_us < IDLE_SLEEP_MAX_US)
				idle_us *= 2;
		}
	}
	return NULL;
}

/* --- for agent_ctl (S4), on this thread ----------------------------------------- */

int cp_tls_send(const struct cp_conn *c, uint16_t type, uint32_t flags, const void *a,
		uint32_t alen, const void *b, uint32_t blen)
{
	struct sess tmp = { .worker = c->worker, .app = c->app, .slot = c->slot, .gen = c->gen,
			    .dn_flags = flags };
	BIO *bio = NULL;
	int rc;

	if (c->worker >= T.n_workers)
		return -EINVAL;
	if (blen) {
		bio = BIO_new_mem_buf(b, (int)blen);
		if (!bio)
			return -ENOMEM;
	}
	rc = dn_send(&tmp, type, a, alen, bio, blen);
	BIO_free(bio);
	return rc;
}

void cp_tls_flush(const struct cp_conn *c, SSL *ssl)
{
	struct sess tmp = { .worker = c->worker, .app = c->app, .slot = c->slot, .gen = c->gen };
	BIO *wb = SSL_get_wbio(ssl);
	long n = BIO_pending(wb);

	if (n > 0 && dn_send(&tmp, SL_TLS_DN_DATA, NULL, 0, wb, (uint32_t)n) != 0)
		(void)BIO_reset(wb); /* the ring is full: the session will not survive it */
}

void cp_tls_close(const struct cp_conn *c)
{
	struct sess *x;

	if (c->worker >= T.n_workers || c->slot >= T.n_slots[c->worker])
		return;
	x = T.by_slot[c->worker][c->slot];
	if (!x || x->gen != c->gen)
		return;
	/* what OpenSSL still has to say (an ERROR, an alert) goes first */
	dn_send(x, SL_TLS_DN_FAIL, NULL, 0, x->wb, (uint32_t)BIO_pending(x->wb));
	sess_free(x, 0);
}

void cp_tls_peer_addr(const struct cp_conn *c, char *buf, size_t len)
{
	const struct sl_flow_zone *z;
	const struct sl_flow_ent *e;
	struct in_addr ia;
	char ip[INET_ADDRSTRLEN];

	snprintf(buf, len, "?");
	if (c->worker >= T.n_workers || !(z = T.zone[c->worker]) || c->slot >= z->n_slots)
		return;
	e = (const struct sl_flow_ent *)(z->slots + (size_t)c->slot * z->stride);
	ia.s_addr = htonl(e->raddr);
	inet_ntop(AF_INET, &ia, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, e->rport);
}

int cp_tls_flow(const struct cp_conn *c, struct sl_flow_ent *out)
{
	const struct sl_flow_zone *z;
	const struct sl_flow_ent *e;

	if (c->worker >= T.n_workers || !(z = T.zone[c->worker]) || c->slot >= z->n_slots)
		return -ENOENT;
	e = (const struct sl_flow_ent *)(z->slots + (size_t)c->slot * z->stride);
	*out = *e; /* racy by nature: figures for a display */
	return out->gen == c->gen ? 0 : -ENOENT;
}

int cp_tls_start(struct dp_link *dp)
{
	char name[RTE_MEMZONE_NAMESIZE];

	T.dp = dp;
	T.shm = dp->shm;
	T.n_workers = dp->n_workers;
	pthread_once(&once, tls_once);
	for (unsigned int w = 0; w < T.n_workers; w++) {
		const struct rte_memzone *mz;

		snprintf(name, sizeof(name), SL_TLS_UP_FMT, w);
		T.up[w] = rte_ring_lookup(name);
		snprintf(name, sizeof(name), SL_TLS_DN_FMT, w);
		T.dn[w] = rte_ring_lookup(name);
		snprintf(name, sizeof(name), "sl_mp_w%u", w);
		T.pool[w] = rte_mempool_lookup(name);
		snprintf(name, sizeof(name), SL_FLOW_ZONE_FMT, w);
		mz = rte_memzone_lookup(name);
		if (!T.up[w] || !T.dn[w] || !T.pool[w] || !mz) {
			cp_log("tls: worker %u has no TLS rings, pool or flow zone: handshakes off", w);
			return -ENOENT;
		}
		T.n_slots[w] = ((const struct sl_flow_zone *)mz->addr)->n_slots;
		T.zone[w] = mz->addr;
		T.by_slot[w] = calloc(T.n_slots[w], sizeof(struct sess *));
		T.done_gen[w] = calloc(T.n_slots[w], sizeof(uint32_t));
		if (!T.by_slot[w] || !T.done_gen[w])
			return -ENOMEM;
	}
	if (pthread_create(&T.thr, NULL, thread_main, NULL) != 0)
		return -errno;
	pthread_setname_np(T.thr, "cp-tls");
	T.running = 1;
	return 0;
}

void cp_tls_stop(void)
{
	if (!T.running)
		return;
	T.stop = 1;
	pthread_join(T.thr, NULL);
	T.running = 0;
	for (unsigned int w = 0; w < T.n_workers; w++)
		for (uint32_t s = 0; T.by_slot[w] && s < T.n_slots[w]; s++)
			if (T.by_slot[w][s])
				sess_free(T.by_slot[w][s], 0);
	for (unsigned int i = 0; i < SL_APPS_MAX; i++)
		cp_tls_app_unload(i);
}
