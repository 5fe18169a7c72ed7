/*
 * S5 end-to-end tunnels: (client, server) pairs whose TLS the appliance
 * passes through untouched for a time-to-live, so the client handshakes
 * with the real server.  One table per worker, in a memzone that
 * sluice-cp reads for `show tunnels` (struct sl_tunnel_zone, shm.h).
 */
#ifndef SLUICE_TUNNEL_H
#define SLUICE_TUNNEL_H

#include <stdint.h>

#include <sluice/shm.h>

/* Does `sni` match the comma-separated `list` of names and "*.suffix"
 * patterns (case-insensitive; a pattern needs at least one more label)? */
int e2e_match(const char *list, const char *sni);

/* The live pair, or NULL (an expired one is removed on the way). */
struct sl_tunnel_ent *tunnel_find(struct sl_tunnel_zone *z, uint32_t client, uint32_t server,
				  uint32_t now_ms);
/* Record (or renew) a pair.  0, or -ENOSPC (counted in z->refused). */
int tunnel_add(struct sl_tunnel_zone *z, uint32_t client, uint32_t server, uint16_t app,
	       const char *sni, int learned, uint32_t ttl_ms, uint32_t now_ms);
void tunnel_del(struct sl_tunnel_zone *z, struct sl_tunnel_ent *e);
/* Drop what expired; publish the clock. */
void tunnel_expire(struct sl_tunnel_zone *z, uint32_t now_ms);

#endif
