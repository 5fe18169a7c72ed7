/*
 * Attach to sluice-dp as a DPDK secondary process and exchange ring messages
 * with its lcores.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memzone.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dp_link.h"
#include "log.h"

#define POLL_NS (100 * 1000)      /* reply poll interval: this is the slow path */
#define RETRY_MS 200              /* attach retry interval */
#define PROGRESS_MS 5000          /* how often to repeat "still waiting" */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L };

	nanosleep(&ts, NULL); /* EINTR is fine: callers re-check their stop flag */
}

/* The primary's runtime config file, as EAL places it (eal_create_runtime_dir). */
static void config_path(const char *prefix, char *buf, size_t len)
{
	const char *dir = "/var/run";

	if (getuid() != 0) {
		dir = getenv("XDG_RUNTIME_DIR");
		if (dir == NULL)
			dir = "/tmp";
	}
	snprintf(buf, len, "%s/dpdk/%s/config", dir, prefix);
}

int dp_link_eal_init(const char *prog, const char *prefix, const char *log_level,
		     unsigned int wait_ms, volatile sig_atomic_t *stop)
{
	char a_prefix[96], a_log[48], path[256];
	char *argv[10];
	uint64_t start = now_ms(), last = 0;
	sigset_t block, old;
	int argc = 0, ret;

	config_path(prefix, path, sizeof(path));
	/* rte_eal_init() as a secondary cannot be retried once it fails, so wait
	 * here until the primary holds the lock on its runtime config */
	while (!rte_eal_primary_proc_alive(path)) {
		uint64_t t = now_ms();

		if (*stop)
			return -EINTR;
		if (t - start >= wait_ms) {
			cp_log("no sluice-dp after %u s: no primary holds %s (file prefix '%s')",
			       wait_ms / 1000, path, prefix);
			return -ETIMEDOUT;
		}
		if (last == 0)
			cp_log("waiting for sluice-dp: no primary process with file prefix '%s' "
			       "(%s not locked); retrying for up to %u s",
			       prefix, path, wait_ms / 1000);
		else if (t - last >= PROGRESS_MS)
			cp_log("still waiting for sluice-dp (%u s)", (unsigned int)((t - start) / 1000));
		if (last == 0 || t - last >= PROGRESS_MS)
			last = t;
		sleep_ns(RETRY_MS * 1000000L);
	}

	snprintf(a_prefix, sizeof(a_prefix), "--file-prefix=%s", prefix);
	snprintf(a_log, sizeof(a_log), "--log-level=%s", log_level[0] ? log_level : "notice");
	argv[argc++] = (char *)prog;
	argv[argc++] = "--proc-type=secondary";
	argv[argc++] = a_prefix;
	/* an lcore id no primary uses: mempool caches are indexed by lcore id */
	argv[argc++] = "--lcores=100@0";
	argv[argc++] = "--no-telemetry";
	/* the control plane never touches a NIC; without this a secondary
	 * probes every PCI device, the host's own (kernel-bound) NIC included */
	argv[argc++] = "--no-pci";
	argv[argc++] = a_log;
	argv[argc] = NULL;

	/* EAL threads inherit this mask: SIGINT/SIGTERM go to the main thread */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	ret = rte_eal_init(argc, argv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret < 0) {
		ret = rte_errno ? -rte_errno : -EIO;
		cp_log("rte_eal_init as secondary (file prefix '%s') failed: %s",
		       prefix, rte_strerror(-ret));
		return ret;
	}
	return 0;
}

/* One attach attempt: 0, -EAGAIN (not there yet, *why set) or -EPROTO. */
static int try_attach(struct dp_link *l, const char **why)
{
	const struct rte_memzone *mz;
	struct sl_shm *shm;
	char name[RTE_RING_NAMESIZE];
	unsigned int i;

	mz = rte_memzone_lookup(SL_SHM_NAME);
	if (mz == NULL) {
		*why = "shared memory " SL_SHM_NAME " not created yet";
		return -EAGAIN;
	}
	if (mz->len < sizeof(struct sl_shm)) {
		cp_log("memzone %s is %zu bytes, this build expects %zu: "
		       "sluice-cp and sluice-dp are from different builds",
		       SL_SHM_NAME, mz->len, sizeof(struct sl_shm));
		return -EPROTO;
	}
	shm = mz->addr;
	/* the primary writes magic last, once the rest of the header is set */
	if (__atomic_load_n(&shm->magic, __ATOMIC_ACQUIRE) == 0) {
		*why = "shared memory not initialised yet";
		return -EAGAIN;
	}
	if (shm->magic != SL_SHM_MAGIC || shm->version != SL_SHM_VERSION) {
		cp_log("shared memory magic %#x version %u, expected %#x version %u: "
		       "sluice-cp and sluice-dp are from different builds",
		       shm->magic, shm->version, SL_SHM_MAGIC, SL_SHM_VERSION);
		return -EPROTO;
	}
	if (shm->n_workers == 0 || shm->n_workers > SL_MAX_WORKERS || shm->n_ports > SL_MAX_PORTS) {
		cp_log("shared memory says %u workers, %u ports: out of range",
		       shm->n_workers, shm->n_ports);
		return -EPROTO;
	}
	for (i = 0; i <= shm->n_workers; i++) {
		snprintf(name, sizeof(name), SL_CMD_RING_FMT, i);
		l->cmd[i] = rte_ring_lookup(name);
		snprintf(name, sizeof(name), SL_EVT_RING_FMT, i);
		l->evt[i] = rte_ring_lookup(name);
		if (l->cmd[i] == NULL || l->evt[i] == NULL) {
			*why = "command/event rings not created yet";
			return -EAGAIN;
		}
	}
	l->shm = shm;
	l->n_workers = shm->n_workers;
	l->n_ports = shm->n_ports;
	return 0;
}

int dp_link_attach(struct dp_link *l, unsigned int wait_ms, volatile sig_atomic_t *stop)
{
	uint64_t start = now_ms(), last = 0;
	const char *why = "";
	uint32_t seed;
	int ret;

	memset(l, 0, sizeof(*l));
	l->timeout_ms = DP_LINK_REPLY_TIMEOUT_MS;
	/* start anywhere: replies still queued for a previous sluice-cp carry
	 * sequence numbers this one is unlikely to be waiting for */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16) ^ (uint32_t)now_ms();
	l->seq = seed;

	for (;;) {
		uint64_t t;

		ret = try_attach(l, &why);
		if (ret != -EAGAIN)
			break;
		t = now_ms();
		if (*stop)
			return -EINTR;
		if (t - start >= wait_ms) {
			cp_log("gave up after %u s: %s", wait_ms / 1000, why);
			return -ETIMEDOUT;
		}
		if (last == 0 || t - last >= PROGRESS_MS) {
			cp_log("waiting for sluice-dp: %s", why);
			last = t;
		}
		sleep_ns(RETRY_MS * 1000000L);
	}
	if (ret == 0)
		cp_log("attached: %u workers, %u ports, sluice-dp pid %d",
		       l->n_workers, l->n_ports, (int)l->shm->dp_pid);
	return ret;
}

bool dp_link_alive(const struct dp_link *l)
{
	/* sluice-dp clears magic on its way out, before the lock goes */
	return __atomic_load_n(&l->shm->magic, __ATOMIC_ACQUIRE) == SL_SHM_MAGIC &&
	       rte_eal_primary_proc_alive(NULL) != 0;
}

int dp_link_exec(struct dp_link *l, struct cpdp_msg *msg, uint32_t slots,
		 int32_t status[SL_MAX_LCORES])
{
	uint32_t pending = 0;
	uint64_t deadline;
	unsigned int i;
	int ret = 0;

	slots &= dp_link_all(l);
	msg->seq = l->seq++;
	for (i = 0; i < SL_MAX_LCORES; i++) {
		status[i] = 0;
		if (!(slots & (1u << i)))
			continue;
		/* bounded ring: a full one is an error to report, never a spin */
		if (rte_ring_mp_enqueue_elem(l->cmd[i], msg, sizeof(*msg)) != 0) {
			status[i] = -ENOBUFS;
			ret = -ENOBUFS;
			continue;
		}
		pending |= 1u << i;
	}

	deadline = now_ms() + l->timeout_ms;
	while (pending) {
		for (i = 0; i < SL_MAX_LCORES; i++) {
			struct cpdp_msg rep;

			if (!(pending & (1u << i)))
				continue;
			while (rte_ring_sc_dequeue_elem(l->evt[i], &rep, sizeof(rep)) == 0) {
				if (cpdp_msg_check(&rep) != 0 || rep.type != CPDP_REPLY) {
					cp_log("slot %u: discarding invalid or unexpected event (type %s)",
					       i, cpdp_type_str(rep.type));
					continue;
				}
				if (rep.seq != msg->seq || rep.u.reply.req_type != msg->type)
					continue; /* stale: not the command we are waiting for */
				status[i] = rep.u.reply.status;
				pending &= ~(1u << i);
				break;
			}
		}
		if (!pending)
			break;
		if (now_ms() >= deadline) {
			for (i = 0; i < SL_MAX_LCORES; i++)
				if (pending & (1u << i))
					status[i] = -ETIMEDOUT;
			cp_log("%s seq %u: no reply from slot mask %#x within %u ms",
			       cpdp_type_str(msg->type), msg->seq, pending, l->timeout_ms);
			return -ETIMEDOUT;
		}
		sleep_ns(POLL_NS);
	}
	return ret;
}

const char *dp_link_slot_name(const struct dp_link *l, unsigned int slot, char *buf, size_t len)
{
	if (slot == l->n_workers)
		snprintf(buf, len, "main");
	else
		snprintf(buf, len, "worker %u", slot);
	return buf;
}
