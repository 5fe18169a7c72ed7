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

int tunnel_add(struct sl_tunnel_zone *z, uint32_t client, uint32_t server, uint16_t app,
	       const char *sni, int learned, uint32_t ttl_ms, uint32_t now_ms)
{
	struct sl_tunnel_ent *e = tunnel_find(z, client, server, now_ms), *free_e = NULL;

	if (!e) {
		for (unsigned int i = 0; i < SL_TUN_MAX; i++) {
			if (!z->e[i].in_use) {
				free_e = &z->e[i];
				break;
			}
			if (expired(&z->e[i], now_ms)) {
				tunnel_del(z, &z->e[i]);
				free_e = &z->e[i];
				break;
			}
		}
		if (!free_e) {
			z->refused++;
			return -ENOSPC;
		}
		e = free_e;
	}
	ent_write_begin(e);
	if (!e->in_use) {
		z->n_in_use++;
		e->conns = 0;
		e->created_ms = now_ms;
	}
	e->in_use = 1;
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
