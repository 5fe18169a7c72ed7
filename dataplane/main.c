/*
 * sluice-dp: the DPDK primary.  Reads the config, builds the EAL arguments
 * from it, creates the shared state (memzone, rings, pools, tables), starts
 * the ports and the workers, and runs the slow path on the main lcore.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_pdump.h>
#include <rte_ring_elem.h>

#include <sluice/cpdp.h>
#include "agent/agent_dp.h"
#include "apps/tls_relay.h"
#include "dp.h"
#include "worker.h"
#include "flow/toeplitz.h"
#include "l2/neigh.h"
#include "default_conf.h"
#include "aead.h"

struct dp dp;
static struct sl_conf conf;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-dp [-c FILE]        run the data plane\n"
		"       sluice-dp --check FILE     validate FILE and exit (0 = valid)\n"
		"       sluice-dp --print-default  print the embedded default config\n"
		"\n"
		"  -c, --config FILE   configuration (libconfig; see docs/config.md).\n"
		"                      Without it the embedded copy of config/sluice.conf\n"
		"                      (the demo topology) is used.\n"
		"  -h, --help          this text\n"
		"\n"
		"EAL arguments come from the config's eal section.  Prints\n"
		"'sluice-dp: ready' once ports and workers run; SIGINT/SIGTERM stop it.\n");
}

static void on_signal(int sig)
{
	(void)sig;
	dp.quit = true;
}

/* Build argv for rte_eal_init from the eal section and the ports. */
static int eal_args(const struct sl_conf *c, char **argv, int max, char buf[][SL_DEV_LEN + 16])
{
	int n = 0, b = 0, pci = 0;

#define ARG(...) do { snprintf(buf[b], sizeof(buf[b]), __VA_ARGS__); argv[n++] = buf[b++]; } while (0)
	ARG("sluice-dp");
	ARG(sl_lcores_is_map(c->lcores) ? "--lcores" : "-l");
	ARG("%s", c->lcores);
	ARG("--file-prefix=%s", c->file_prefix);
	ARG("--proc-type=primary");
	if (c->huge_dir[0])
		ARG("--huge-dir=%s", c->huge_dir);
	if (c->mem_mb)
		ARG("-m%u", c->mem_mb);
	if (c->log_level[0])
		ARG("--log-level=%s", c->log_level);
	for (unsigned int i = 0; i < c->n_ports && n < max - 2; i++) {
		if (c->ports[i].is_vdev) {
			ARG("--vdev=%s", c->ports[i].dev);
		} else {
			ARG("-a%s", c->ports[i].dev);
			pci++;
		}
	}
	if (!pci)
		ARG("--no-pci");
#undef ARG
	argv[n] = NULL;
	return n;
}

static int shm_create(void)
{
	const struct rte_memzone *mz;

	mz = rte_memzone_reserve_aligned(SL_SHM_NAME, sizeof(struct sl_shm), (int)rte_socket_id(),
					 0, RTE_CACHE_LINE_SIZE);
	if (!mz)
		return -rte_errno;
	dp.shm = mz->addr;
	memset(dp.shm, 0, sizeof(*dp.shm));
	dp.shm->dp_pid = getpid();
	dp.shm->tsc_hz = dp.tsc_hz;
	dp.shm->start_tsc = rte_get_tsc_cycles();
	dp.shm->n_ports = dp.n_ports;
	dp.shm->n_workers = dp.n_workers;
	dp.shm->icmp_rate = conf.icmp_rate;
	dp.shm->icmp_burst = conf.icmp_burst;
	dp.shm->neigh_max = conf.neigh_max;
	rte_seqcount_init(&dp.shm->neigh.seq);
	/* the config's applications; sluice-cp owns the table from here on
	 * (it loads their certificates and applies `app add/del`) */
	for (unsigned int i = 0, id = conf.n_rules + 1; i < conf.n_apps; i++) {
		struct sl_rule r[2];
		unsigned int n = sl_app_rules(&conf.apps[i], i, id, r);

		dp.shm->apps.a[i] = conf.apps[i];
		for (unsigned int k = 0; k < n; k++)
			dp.shm->apps.a[i].rule_ids[k] = r[k].id;
		id += n;
	}
	dp.shm->apps.n = conf.n_apps;
	if (conf.agents.enabled) {
		/* S4: the agents' listener is an application of its own (the
		 * handshakes run in sluice-cp like any other), after the config's */
		struct sl_app_def *a = &dp.shm->apps.a[conf.n_apps];

		memset(a, 0, sizeof(*a));
		a->in_use = 1;
		a->mode = SL_APP_AGENTS;
		snprintf(a->name, sizeof(a->name), "agents");
		a->server = conf.agents.listen;
		a->secure_port = conf.agents.port;
		snprintf(a->cert, sizeof(a->cert), "%s", conf.agents.cert);
		snprintf(a->key, sizeof(a->key), "%s", conf.agents.key);
		snprintf(a->ca, sizeof(a->ca), "%s", conf.agents.ca);
		dp.shm->apps.n++;
	}
	return 0;
}

static int rings_create(void)
{
	char name[RTE_RING_NAMESIZE];

	for (unsigned int i = 0; i <= dp.n_workers; i++) {
		snprintf(name, sizeof(name), SL_CMD_RING_FMT, i);
		/* commands: cp (and later other producers) -> one owner */
		dp.cmd[i] = rte_ring_create_elem(name, sizeof(struct cpdp_msg), CPDP_RING_SIZE,
						 (int)rte_socket_id(), RING_F_SC_DEQ);
		snprintf(name, sizeof(name), SL_EVT_RING_FMT, i);
		dp.evt[i] = rte_ring_create_elem(name, sizeof(struct cpdp_msg), CPDP_RING_SIZE,
						 (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!dp.cmd[i] || !dp.evt[i])
			return -rte_errno;
	}
	return 0;
}

/* Connected and local routes for each port, then the configured ones. */
static int initial_routes(struct worker *w)
{
	int ret;

	for (unsigned int i = 0; i < dp.n_ports; i++) {
		const struct dp_port *p = &dp.ports[i];
		struct sl_route local = { .prefix = p->addr, .plen = 32, .type = SL_RT_LOCAL,
					  .origin = SL_RO_KERNEL, .port = (uint16_t)i };
		struct sl_route conn = { .prefix = p->net, .plen = p->plen, .type = SL_RT_DIRECT,
					 .origin = SL_RO_KERNEL, .port = (uint16_t)i };

		if ((ret = worker_route_add(w, &local)) || (ret = worker_route_add(w, &conn)))
			return ret;
	}
	for (unsigned int i = 0; i < conf.n_routes; i++) {
		const struct sl_conf_route *cr = &conf.routes[i];
		struct sl_route r = { .prefix = cr->prefix, .plen = cr->plen, .type = cr->type,
				      .origin = SL_RO_CONFIG, .port = cr->port, .gw = cr->gw };

		if ((ret = worker_route_add(w, &r)))
			return ret;
	}
	for (unsigned int i = 0; i < conf.n_rules; i++)
		if ((ret = worker_rule_add(w, &conf.rules[i])))
			return ret;
	/* the config's applications: their rules follow the config's rules */
	for (unsigned int i = 0, id = conf.n_rules + 1; i < conf.n_apps; i++) {
		struct sl_rule r[2];
		unsigned int n = sl_app_rules(&conf.apps[i], i, id, r);

		for (unsigned int k = 0; k < n; k++)
			if ((ret = worker_rule_add(w, &r[k])))
				return ret;
		id += n;
	}
	for (unsigned int i = 0; i < dp.n_ports; i++)
		worker_impair_set(w, (uint16_t)i, 1u << SL_DIR_IN, &conf.ports[i].impair.dir[SL_DIR_IN],
				  conf.ports[i].impair.seed);
	for (unsigned int i = 0; i < dp.n_ports; i++)
		worker_impair_set(w, (uint16_t)i, 1u << SL_DIR_OUT,
				  &conf.ports[i].impair.dir[SL_DIR_OUT], 0);
	return 0;
}

/* Measure both AEAD engines on this CPU and keep the faster per algorithm
 * and record size (crypto.engine = "auto"), or pin the configured one. */
static int crypto_choose(void)
{
	_Static_assert(SL_AEAD_ALGS == AEAD_ALG_MAX && SL_AEAD_SIZES == AEAD_SIZE_MAX &&
			       SL_AEAD_ENGINES == AEAD_ENG_MAX, "shm crypto view matches crypto/aead.h");
	struct sl_crypto_view *v = &dp.shm->crypto;
	struct aead_thread t;
	struct aead_choice c;
	int force = -1, ret;

	if (strcmp(conf.crypto_engine, "ipsec-mb") == 0)
		force = AEAD_ENG_IPSECMB;
	else if (strcmp(conf.crypto_engine, "openssl") == 0)
		force = AEAD_ENG_OPENSSL;
	aead_thread_init(&t);
	if (force == AEAD_ENG_IPSECMB && !t.imb_mgr) {
		aead_thread_fini(&t);
		fprintf(stderr, "sluice-dp: crypto.engine = ipsec-mb, but intel-ipsec-mb does not run on this CPU\n");
		return -ENOTSUP;
	}
	ret = aead_choose(&t, &c, conf.crypto_measure_ms, force);
	aead_thread_fini(&t);
	if (ret)
		return ret;
	v->forced = force >= 0;
	v->measure_ms = conf.crypto_measure_ms;
	memcpy(v->eng, c.eng, sizeof(v->eng));
	memcpy(v->gbps, c.gbps, sizeof(v->gbps));
	return 0;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "sluice-dp: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", required_argument, NULL, 'k' },
		{ "print-default", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char abuf[64][SL_DEV_LEN + 16];
	char *eargv[64];
	char err[SL_CONF_ERR_LEN];
	const char *cfg = NULL;
	struct rte_mempool *pools[SL_MAX_WORKERS];
	unsigned int lcore, i;
	int opt, ret, eargc;

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cfg = optarg;
			break;
		case 'k':
			if (sl_conf_load(&conf, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
			printf("%s: ok\n", optarg);
			return 0;
		case 'p':
			fputs(sl_default_conf, stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	ret = cfg ? sl_conf_load(&conf, cfg, err, sizeof(err))
		  : sl_conf_load_str(&conf, "config/sluice.conf", sl_default_conf, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	dp.conf = &conf;
	dp.n_ports = conf.n_ports;

	eargc = eal_args(&conf, eargv, 63, abuf);
	ret = rte_eal_init(eargc, eargv);
	if (ret < 0)
		die("EAL init", rte_errno);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	dp.tsc_hz = rte_get_tsc_hz();
	dp.n_workers = rte_lcore_count() - 1;
	if (dp.n_workers < 1 || dp.n_workers > SL_MAX_WORKERS) {
		fprintf(stderr, "sluice-dp: eal.lcores '%s' gives %u workers; need 1..%d besides the main lcore\n",
			conf.lcores, dp.n_workers, SL_MAX_WORKERS);
		return 1;
	}
	if ((ret = shm_create()) || (ret = rings_create()))
		die("shared state", ret);

	dp.qsbr = rte_zmalloc("sl_qsbr", rte_rcu_qsbr_get_memsize(dp.n_workers), RTE_CACHE_LINE_SIZE);
	if (!dp.qsbr || rte_rcu_qsbr_init(dp.qsbr, dp.n_workers) != 0)
		die("rcu", ENOMEM);
	{
		struct neigh_params np = { .reachable_ms = conf.neigh_reachable_ms,
					   .retrans_ms = conf.neigh_retrans_ms,
					   .probes = conf.neigh_probes };
		dp.neigh = neigh_table_create(conf.neigh_max, &np, conf.neigh_pending_per_entry,
					      conf.neigh_pending_max, dp.qsbr);
		if (!dp.neigh)
			die("neighbour table", rte_errno ? rte_errno : ENOMEM);
	}
	dp.main_pool = rte_pktmbuf_pool_create("sl_mp_main", 2047, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					       (int)rte_socket_id());
	if (!dp.main_pool)
		die("main mbuf pool", rte_errno);

	if (conf.agents.enabled && conf.n_apps >= SL_APPS_MAX)
		die("agents: no application slot left for the agents' listener", ENOSPC);
	if ((ret = agent_dp_acl_zone_create()))
		die("S4 ACL zone", -ret);
	/* the flow-owner hash's table: written here, read by every worker
	 * without a lock from the first packet on (flow/dispatch.h) */
	toeplitz_init();
	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if ((ret = worker_create(i, lcore)))
			die("worker", ret);
		pools[i] = dp.workers[i]->pool;
		i++;
	}
	worker_handoff_link();
	tls_relay_link();
	for (i = 0; i < dp.n_ports; i++) {
		struct sl_port_view *v = &dp.shm->ports[i];

		if ((ret = port_setup(&dp.ports[i], &conf.ports[i], (uint16_t)i)) ||
		    (ret = port_start(&dp.ports[i], dp.n_workers, dp.n_workers, pools,
				      conf.rx_desc, conf.tx_desc)))
			die(conf.ports[i].name, ret);
		{
			struct rte_eth_dev_info info;

			if (rte_eth_dev_info_get(dp.ports[i].port_id, &info) == 0)
				snprintf(v->driver, sizeof(v->driver), "%s", info.driver_name);
		}
		snprintf(v->name, sizeof(v->name), "%s", conf.ports[i].name);
		snprintf(v->dev, sizeof(v->dev), "%s", conf.ports[i].dev);
		v->port_id = dp.ports[i].port_id;
		v->mtu = dp.ports[i].mtu;
		memcpy(v->mac, dp.ports[i].mac.addr_bytes, 6);
		v->addr = dp.ports[i].addr;
		v->plen = dp.ports[i].plen;
		port_refresh_view(&dp.ports[i], v);
	}
	for (i = 0; i < dp.n_workers; i++)
		if ((ret = initial_routes(dp.workers[i])))
			die("initial routes", ret);
	for (i = 0; i < conf.n_neigh; i++)
		if ((ret = neigh_add_static(dp.neigh, conf.neigh[i].ip, conf.neigh[i].port,
					    conf.neigh[i].mac, 0)))
			die("static neighbour", ret);
	if ((ret = crypto_choose()))
		die("crypto engine choice", ret);
	for (i = 0; i < dp.n_workers; i++)
		if (dp.workers[i]->tls && (ret = tls_relay_reserve(dp.workers[i])))
			die("OpenSSL contexts for the TLS sessions (lower tcp.tls_sessions?)", ret);
	if (rte_pdump_init() != 0)
		fprintf(stderr, "sluice-dp: pdump unavailable: dpdk-dumpcap will not attach\n");
	telemetry_register();

	/* everything cp reads is in place: publish the layout last */
	dp.shm->version = SL_SHM_VERSION;
	__atomic_store_n(&dp.shm->magic, SL_SHM_MAGIC, __ATOMIC_RELEASE);

	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
		rte_eal_remote_launch(worker_loop, dp.workers[i++], lcore);
	printf("sluice-dp: ready: %u ports, %u workers, file-prefix %s\n", dp.n_ports, dp.n_workers,
	       conf.file_prefix);
	fflush(stdout);

	main_lcore_loop();

	rte_eal_mp_wait_lcore();
	__atomic_store_n(&dp.shm->magic, 0, __ATOMIC_RELEASE);
	rte_pdump_uninit();
	port_stop_all();
	rte_eal_cleanup();
	printf("sluice-dp: stopped\n");
	return 0;
}
