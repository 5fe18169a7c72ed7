/*
 * sluice-cp: the control plane.  A DPDK secondary process attached to
 * sluice-dp's shared memory; serves the control socket (sluicectl).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include <sluice/ctl.h>

#include "conf.h"

#include "cmds/cmds.h"
#include "ctl_socket.h"
#include "agent/agent_ctl.h"
#include "dp_link.h"
#include "log.h"
#include "lstp/lstp_mid.h"
#include "tls/cp_tls.h"

#include "cp_default_conf.h"

#define ATTACH_WAIT_MS 30000
#define LIVENESS_MS 1000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned int now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned int)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [-c FILE] [--socket PATH] [--help] [--version]\n"
		"\n"
		"The Sluice control plane.  Attaches to a running sluice-dp (DPDK secondary\n"
		"process, waiting up to 30 s for it) and serves the control socket that\n"
		"sluicectl talks to.\n"
		"\n"
		"  -c, --config FILE  configuration file (default: the embedded default);\n"
		"                     only eal.file_prefix, eal.log_level and\n"
		"                     control.socket are used here\n"
		"  -s, --socket PATH  control socket (overrides control.socket)\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n"
		"\n"
		"Exit status: 0 after SIGINT/SIGTERM, 1 on errors (no data plane, bad\n"
		"configuration, socket in use, data plane exited).\n", prog);
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL, *sock_path = NULL;
	static struct sl_conf conf;
	static struct dp_link dp;
	char err[SL_CONF_ERR_LEN];
	struct ctl_server *srv;
	struct sigaction sa;
	unsigned int start, elapsed, last_check;
	int opt, ret, status = 0;

	while ((opt = getopt_long(argc, argv, "c:s:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		case 's':
			sock_path = optarg;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		case 'V':
			printf("sluice-cp %s\n", SLUICE_VERSION);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
		usage(stderr, argv[0]);
		return 1;
	}

	if (conf_path)
		ret = sl_conf_load(&conf, conf_path, err, sizeof(err));
	else
		ret = sl_conf_load_str(&conf, "<embedded sluice.conf>", sl_default_conf,
				       err, sizeof(err));
	if (ret != 0) {
		fprintf(stderr, "sluice-cp: %s\n", err);
		return 1;
	}
	if (sock_path == NULL)
		sock_path = conf.ctl_socket[0] ? conf.ctl_socket : CTL_DEFAULT_SOCKET;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns on a signal */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a client that goes away mid-response must not kill the daemon */
	signal(SIGPIPE, SIG_IGN);

	start = now_ms();
	ret = dp_link_eal_init(argv[0], conf.file_prefix[0] ? conf.file_prefix : "sluice",
			       conf.log_level, ATTACH_WAIT_MS, &stop);
	if (ret == -EINTR)
		return 0;
	if (ret != 0)
		return 1;
	/* one 30 s budget for both steps */
	elapsed = now_ms() - start;
	ret = dp_link_attach(&dp, elapsed < ATTACH_WAIT_MS ? ATTACH_WAIT_MS - elapsed : 1000, &stop);
	if (ret != 0) {
		rte_eal_cleanup();
		return ret == -EINTR ? 0 : 1;
	}

	/* S4: the agents and vnets of the config (their sessions run on the
	 * handshake thread) */
	agent_ctl_init(&conf, dp.n_workers);
	/* S3: the LSTP middle's pairing table (also on the handshake thread) */
	if ((ret = lstp_mid_init(&conf, dp.n_workers)) != 0)
		cp_log("lstp: pairing table not set up: %s", strerror(-ret));

	/* handshakes for the workers' TLS applications (S1) */
	if ((ret = cp_tls_start(&dp)) != 0)
		cp_log("tls: handshake thread not started: %s", strerror(-ret));

	/* the applications' TLS contexts live only here: (re)load them all */
	for (unsigned int i = 0; i < SL_APPS_MAX; i++) {
		struct sl_app_def def = dp.shm->apps.a[i];
		char err[256];

		if (!def.in_use)
			continue;
		if (cp_tls_app_load(i, &def, err, sizeof(err)) != 0)
			cp_log("app %s: %s (its connections fail until `app del` + `app add`)", def.name,
			       err);
	}

	srv = ctl_server_open(sock_path, cmds_exec, &dp);
	if (srv == NULL) {
		cp_log("cannot serve %s: %s", sock_path, strerror(errno));
		rte_eal_cleanup();
		return 1;
	}
	cp_log("serving %s", sock_path);
	last_check = now_ms();

	while (!stop) {
		ret = ctl_server_poll(srv, 250);
		if (ret < 0 && ret != -EINTR) {
			cp_log("poll: %s", strerror(-ret));
			status = 1;
			break;
		}
		if (now_ms() - last_check >= LIVENESS_MS) {
			last_check = now_ms();
			/* our mapping of a dead primary's memory stays readable but
			 * nobody answers commands; a new primary needs a new attach */
			if (!dp_link_alive(&dp)) {
				cp_log("sluice-dp exited; exiting (restart sluice-cp after sluice-dp)");
				status = 1;
				break;
			}
		}
	}
	if (stop)
		cp_log("signal received, exiting");
	ctl_server_close(srv);
	cp_tls_stop();
	lstp_mid_fini();
	rte_eal_cleanup();
	return status;
}
