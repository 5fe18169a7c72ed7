/*
 * S5 tunnel table (tunnel.h).  Linear: a pair is looked up once per new
 * TLS connection, never per packet, and the table is small and bounded.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "tunnel.h"

int e2e_match(const char *list, const char *sni)
{
	size_t sl = strlen(sni);

	if (sl == 0)
		return 0;
	while (*list) {
		const char *end = strchr(list, ',');
		size_t n = end ? (size_t)(end - list) : strlen(list);

		while (n && *list == ' ')
			list++, n--;
		while (n && list[n - 1] == ' ')
			n--;
		if (n > 2 && list[0] == '*' && list[1] == '.') {
			/* "*.bank.test" matches "www.bank.test", not "bank.test" */
			size_t suf = n - 1; /* ".bank.test" */

			if (sl > suf && strncasecmp(sni + sl - suf, list + 1, suf) == 0)
				return 1;
		} else if (n == sl && strncasecmp(sni, list, n) == 0) {
			return 1;
		}
		if (!end)
			break;
		list = end + 1;
	}
	return 0;
}

static int expired(const struct sl_tunnel_ent *e, uint32_t now_ms)
{
	return (int32_t)(now_ms - e->expiry_ms) >= 0;
}

static void ent_write_begin(struct sl_tunnel_ent *e)
{
	__atomic_store_n(&e->gen, e->gen + 1, __ATOMIC_RELEASE);
}

static void ent_write_end(struct sl_tunnel_ent *e)
{
	__atomic_store_n(&e->gen, e->gen + 1, __ATOMIC_RELEASE);
}

void tunnel_del(struct sl_tunnel_zone *z, struct sl_tunnel_ent *e)
{
	if (!e->in_use)
		return;
	ent_write_begin(e);
	e->in_use = 0;
	ent_write_end(e);
	z->n_in_use--;
}

struct sl_tunnel_ent *tunnel_find(struct sl_tunnel_zone *z, uint32_t client, uint32_t server,
				  uint32_t now_ms)
{
	for (unsigned int i = 0; i < SL_TUN_MAX && z->n_in_use; i++) {
		struct sl_tunnel_ent *e = &z->e[i];

		if (!e->in_use || e->client != client || e->server != server)
			continue;
		if (expired(e, now_ms)) {
			tunnel_del(z, e);
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* The pair's slot in this table: its record, else a free or expired slot. */
static struct sl_tunnel_ent *slot_for(struct sl_tunnel_zone *z, uint32_t client, uint32_t server,
				      uint32_t now_ms)
{
	struct sl_tunnel_ent *e = tunnel_find(z, client, server, now_ms);

	if (e)
		return e;
	for (unsigned int i = 0; i < SL_TUN_MAX; i++) {
		if (!z->e[i].in_use)
			return &z->e[i];
		if (expired(&z->e[i], now_ms)) {
			tunnel_del(z, &z->e[i]);
			return &z->e[i];
		}
	}
	z->refused++;
	return NULL;
}

int tunnel_end(struct sl_tunnel_zone *z, uint32_t client, uint32_t server, uint32_t keep_ms,
	       uint32_t now_ms, uint64_t stamp)
{
	struct sl_tunnel_ent *e = slot_for(z, client, server, now_ms);

	if (!e)
		return -ENOSPC;
	ent_write_begin(e);
	if (!e->in_use)
		z->n_in_use++;
	e->in_use = 1;
	e->tomb = 1;
	e->learned = 0;
	e->client = client;
	e->server = server;
	e->conns = 0;
	e->created_ms = now_ms;
	e->expiry_ms = now_ms + keep_ms;
	e->stamp = stamp;
	e->sni[0] = '\0';
	ent_write_end(e);
	return 0;
}

int tunnel_read(const struct sl_tunnel_ent *e, struct sl_tunnel_ent *out)
{
	uint32_t g = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);

	if ((g & 1) || !__atomic_load_n(&e->in_use, __ATOMIC_RELAXED))
		return -EAGAIN;
	memcpy(out, e, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&e->gen, __ATOMIC_RELAXED) != g || !out->in_use)
		return -EAGAIN;
	out->sni[SL_TUN_SNI_LEN - 1] = '\0';
	return 0;
}

int tunnel_lookup(struct sl_tunnel_zone *const zs[], unsigned int n, unsigned int self,
		  uint32_t client, uint32_t server, uint32_t now_ms, struct sl_tunnel_ent *out,
		  unsigned int *where)
{
	struct sl_tunnel_ent best = { 0 }, r;
	int found = 0;

	for (unsigned int k = 0; k < n; k++) {
		struct sl_tunnel_zone *z = zs[k];
		uint32_t now;

		if (!z || !__atomic_load_n(&z->n_in_use, __ATOMIC_RELAXED))
			continue;
		now = k == self ? now_ms : __atomic_load_n(&z->now_ms, __ATOMIC_RELAXED);
		for (unsigned int i = 0; i < SL_TUN_MAX; i++) {
			const struct sl_tunnel_ent *e = &z->e[i];

			/* a cheap look first: most slots are other pairs */
			if (e->client != client || e->server != server)
				continue;
			if (tunnel_read(e, &r) != 0 || r.client != client || r.server != server ||
			    expired(&r, now))
				continue;
			if (!found || r.stamp > best.stamp) {
				best = r;
				found = 1;
				*where = k;
			}
			break; /* one record of a pair per table */
		}
	}
	if (!found || best.tomb)
		return 0;
	*out = best;
	return 1;
}

int tunnel_add(struct sl_tunnel_zone *z, uint32_t client, uint32_t server, uint16_t app,
	       const char *sni, int learned, uint32_t ttl_ms, uint32_t now_ms, uint64_t stamp)
{
	struct sl_tunnel_ent *e = slot_for(z, client, server, now_ms);

	if (!e)
		return -ENOSPC;
	ent_write_begin(e);
	if (!e->in_use || e->tomb) {
		if (!e->in_use)
			z->n_in_use++;
		e->conns = 0;
		e->created_ms = now_ms;
	}
	e->in_use = 1;
	e->tomb = 0;
	e->stamp = stamp;
	e->learned = (uint8_t)!!learned;
	e->app = app;
	e->client = client;
	e->server = server;
	e->expiry_ms = now_ms + ttl_ms;
	strncpy(e->sni, sni, SL_TUN_SNI_LEN - 1);
	e->sni[SL_TUN_SNI_LEN - 1] = '\0';
	ent_write_end(e);
	return 0;
}

void tunnel_expire(struct sl_tunnel_zone *z, uint32_t now_ms)
{
	for (unsigned int i = 0; i < SL_TUN_MAX && z->n_in_use; i++)
		if (z->e[i].in_use && expired(&z->e[i], now_ms))
			tunnel_del(z, &z->e[i]);
	z->now_ms = now_ms;
}
