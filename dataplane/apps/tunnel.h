/*
 * S5 end-to-end tunnels: (client, server) pairs whose TLS the appliance
 * passes through untouched for a time-to-live, so the client handshakes
 * with the real server.  One table per worker, in a memzone that
 * sluice-cp reads for `show tunnels` (struct sl_tunnel_zone, shm.h).
 *
 * A client's next connection to the same server may reach another worker
 * (workers own flows by 4-tuple), so each worker writes only its own table
 * and reads every table: the pair's state is its newest record (`stamp`,
 * the TSC, common to all cores) over all of them.  Renewing writes a newer
 * record here; ending writes a tombstone here that shadows older records
 * elsewhere until they expire.  A lookup reads other workers' records under
 * their `gen` (lock-free); it runs once per new TLS connection, never per
 * packet.  Another worker's expiry is judged by the clock it publishes once
 * a second, so a record may outlive its TTL there by up to a second.
 */
#ifndef SLUICE_TUNNEL_H
#define SLUICE_TUNNEL_H

#include <stdint.h>

#include <sluice/shm.h>

/* Does `sni` match the comma-separated `list` of names and "*.suffix"
 * patterns (case-insensitive; a pattern needs at least one more label)? */
int e2e_match(const char *list, const char *sni);

/* This table's live record of the pair (a tombstone too), or NULL (an
 * expired one is removed on the way). */
struct sl_tunnel_ent *tunnel_find(struct sl_tunnel_zone *z, uint32_t client, uint32_t server,
				  uint32_t now_ms);
/* Record (or renew) a pair in this table, stamped `stamp`.  0, or -ENOSPC
 * (counted in z->refused). */
int tunnel_add(struct sl_tunnel_zone *z, uint32_t client, uint32_t server, uint16_t app,
	       const char *sni, int learned, uint32_t ttl_ms, uint32_t now_ms, uint64_t stamp);
/* End the pair's tunnel for every worker: a tombstone in this table,
 * stamped `stamp`, kept for `keep_ms` (as long as any record it shadows
 * may live).  0, or -ENOSPC. */
int tunnel_end(struct sl_tunnel_zone *z, uint32_t client, uint32_t server, uint32_t keep_ms,
	       uint32_t now_ms, uint64_t stamp);
/*
 * The pair's tunnel as all n workers' tables say: 1 and a copy of the
 * newest live record in *out (its table's index in *where), or 0 when there
 * is none or the newest is a tombstone.  zs[self] is the caller's own table,
 * judged by now_ms; the others by the clock they publish.
 */
int tunnel_lookup(struct sl_tunnel_zone *const zs[], unsigned int n, unsigned int self,
		  uint32_t client, uint32_t server, uint32_t now_ms, struct sl_tunnel_ent *out,
		  unsigned int *where);
/* A consistent copy of *e (written by another thread): 0, or -EAGAIN when
 * it changed under the read or is not in use. */
int tunnel_read(const struct sl_tunnel_ent *e, struct sl_tunnel_ent *out);
void tunnel_del(struct sl_tunnel_zone *z, struct sl_tunnel_ent *e);
/* Drop what expired; publish the clock. */
void tunnel_expire(struct sl_tunnel_zone *z, uint32_t now_ms);

#endif
