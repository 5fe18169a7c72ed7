/*
 * The control plane's link to the data plane: EAL secondary attach, the
 * shared-memory view (sluice/shm.h) and the per-lcore command/event rings
 * (sluice/cpdp.h).
 */
#ifndef SLUICE_CP_DP_LINK_H
#define SLUICE_CP_DP_LINK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <sluice/cpdp.h>
#include <sluice/shm.h>

#define DP_LINK_REPLY_TIMEOUT_MS 2000

struct rte_ring;

struct dp_link {
	struct sl_shm *shm;       /* dp: rw, cp: ro (never written here) */
	unsigned int n_workers;   /* slots 0..n_workers-1 workers, n_workers main */
	unsigned int n_ports;
	struct rte_ring *cmd[SL_MAX_LCORES];
	struct rte_ring *evt[SL_MAX_LCORES];
	uint32_t seq;             /* next command sequence number */
	unsigned int timeout_ms;  /* reply wait, DP_LINK_REPLY_TIMEOUT_MS */
};

/* Bit masks of lcore slots for dp_link_exec(). */
static inline uint32_t dp_link_workers(const struct dp_link *l)
{
	return (1u << l->n_workers) - 1;
}

static inline uint32_t dp_link_all(const struct dp_link *l)
{
	return (1u << (l->n_workers + 1)) - 1;
}

static inline unsigned int dp_link_main_slot(const struct dp_link *l)
{
	return l->n_workers;
}

/* Wait (up to wait_ms, or until *stop) for a primary with file prefix
 * `prefix`, then rte_eal_init() as a secondary.  0, -ETIMEDOUT, -EINTR (stop),
 * or -errno from EAL. */
int dp_link_eal_init(const char *prog, const char *prefix, const char *log_level,
		     unsigned int wait_ms, volatile sig_atomic_t *stop);

/* Find the shared memory and rings the primary made, retrying until wait_ms
 * has passed (the primary creates them after its EAL is up).  0, -ETIMEDOUT,
 * -EINTR, -EPROTO (layout or version mismatch: a different build). */
int dp_link_attach(struct dp_link *l, unsigned int wait_ms, volatile sig_atomic_t *stop);

/* Is the primary process still running? */
bool dp_link_alive(const struct dp_link *l);

/* Send *msg (its seq is assigned here) to every slot in `slots`, and wait for
 * each one's CPDP_REPLY with that seq; replies with another seq are stale (a
 * timed-out earlier command, or a previous sluice-cp) and are discarded.
 * status[slot] gets the reply status, -ENOBUFS (command ring full) or
 * -ETIMEDOUT.  Returns 0 when every slot answered, else -ETIMEDOUT/-ENOBUFS
 * (status[] says which). */
int dp_link_exec(struct dp_link *l, struct cpdp_msg *msg, uint32_t slots,
		 int32_t status[SL_MAX_LCORES]);

/* "worker 3" / "main" */
const char *dp_link_slot_name(const struct dp_link *l, unsigned int slot, char *buf, size_t len);

#endif
