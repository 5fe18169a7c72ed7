/*
 * sluice-agent: the remote agent of S4.  It dials out to the appliance
 * (TLS, optionally through an HTTP CONNECT proxy), keeps one control
 * session and a pool of idle STREAM sessions, connects to servers and
 * pings on the appliance's behalf, and relays the connections it made.
 *
 * One thread, one epoll loop (loop.c).  Signals arrive through a signalfd
 * so their handling is an ordinary event: SIGTERM/SIGINT stop the loop and
 * close everything, SIGUSR1 prints the counters.  SIGPIPE is ignored
 * (writes to a dead peer return EPIPE instead).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "ctl.h"
#include "icmp.h"
#include "log.h"
#include "loop.h"
#include "ping.h"
#include "relay.h"
#include "server.h"
#include "dgram.h"
#include "stream.h"
#include "tlsconn.h"

const struct agent_conf *agent_cf;
struct agent_stats agent_stats;

static struct agent_conf conf;
static volatile int stop;
static struct ev sigev;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-agent -c FILE [-v] [--check]\n"
		"\n"
		"The Sluice remote agent (S4).  Dials the appliance over TLS (mutual X.509,\n"
		"directly or through an HTTP CONNECT proxy), keeps a control session and a\n"
		"pool of idle STREAM sessions, and on the appliance's requests connects to\n"
		"servers (relaying the connection over a STREAM session), relays UDP\n"
		"(datagram associations over DGRAM sessions the appliance asks for) and\n"
		"pings hosts from this machine.  It never exits on a network error: the\n"
		"control and STREAM sessions are redialed with a capped exponential backoff\n"
		"(a DGRAM session only when the appliance asks again).\n"
		"\n"
		"  -c, --config FILE  the configuration (reference: docs/agent.md)\n"
		"      --check        load the configuration, the CA, certificate and key,\n"
		"                     print whether they are valid, exit 0 (valid) or 1\n"
		"  -v, --verbose      log more (debug: every message and relay)\n"
		"  -h, --help         this text\n"
		"      --version      print the version\n"
		"\n"
		"Pings and exact ICMP codes for failed connects need a raw ICMP socket:\n"
		"run as root or with CAP_NET_RAW; without it PING is answered UNREACHABLE 13\n"
		"and connect errors are mapped from errno.\n"
		"\n"
		"Logs go to stderr.  Signals: SIGTERM/SIGINT close every session and exit 0;\n"
		"SIGUSR1 prints the counters to stderr.  Exit status: 0 (stopped by a signal,\n"
		"or --check passed), 1 (bad configuration, or start-up failed), 2 (bad\n"
		"options).\n");
}

static void print_counters(void)
{
	fprintf(stderr,
		"sluice-agent counters:\n"
		"  control session      %s\n"
		"  stream pool          %u idle, %u dialing, target %u\n"
		"  connects pending     %u\n"
		"  relays active        %u\n"
		"  pings outstanding    %u\n"
		"  raw ICMP socket      %s\n"
		"  DGRAM sessions       %u\n"
		"  UDP associations     %u\n",
		ctl_state_str(), stream_idle_count(), stream_dialing_count(), stream_pool_target(),
		server_pending(), relay_count(), ping_pending(), icmp_available() ? "yes" : "no",
		dgram_session_count(), dgram_da_count());
#define AGENT_STAT_PRINT(name, desc) \
	fprintf(stderr, "  %-22s %llu  (%s)\n", #name, (unsigned long long)agent_stats.name, desc);
	AGENT_COUNTERS(AGENT_STAT_PRINT)
#undef AGENT_STAT_PRINT
}

static void sig_event(struct ev *ev, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	while (read(ev->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			print_counters();
		} else {
			log_info("signal %u: stopping", si.ssi_signo);
			stop = 1;
		}
	}
}

static int signals_setup(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	ev_init(&sigev, sig_event);
	return ev_attach(&sigev, fd, EPOLLIN);
}

static void seed_random(void)
{
	unsigned int seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (unsigned int)time(NULL) ^ (unsigned int)getpid() << 16;
	srandom(seed);
}

static int parse_args(int argc, char **argv, const char **path, int *check)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			*path = optarg;
			break;
		case 'k':
			*check = 1;
			break;
		case 'v':
			log_verbosity = LOG_LVL_DEBUG;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("%s\n", AGENT_SOFTWARE);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice-agent: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (*path == NULL) {
		fprintf(stderr, "sluice-agent: no configuration given (-c FILE)\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

static void shutdown_all(void)
{
	ctl_stop();
	server_cancel_all();
	ping_cancel_all();
	relay_close_all();
	stream_close_all();
	dgram_close_all();
	icmp_close();
	ev_close(&sigev);
	loop_fini();
	tlsconn_teardown();
	agent_conf_wipe(&conf);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	char err[1024];
	int check = 0, rc;

	if (parse_args(argc, argv, &path, &check) < 0)
		return 2;
	if (agent_conf_load(&conf, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-agent: %s\n", err);
		return 1;
	}
	agent_cf = &conf;
	if (tlsconn_setup(&conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-agent: %s: %s\n", path, err);
		agent_conf_wipe(&conf);
		return 1;
	}
	if (check) {
		printf("%s: configuration OK (appliance %s:%u%s, pool %u)\n", path, conf.appliance,
		       conf.port, conf.proxy.set ? " through a proxy" : "", conf.stream_pool);
		tlsconn_teardown();
		agent_conf_wipe(&conf);
		return 0;
	}
	seed_random();
	if ((rc = loop_init()) < 0 || (rc = signals_setup()) < 0) {
		fprintf(stderr, "sluice-agent: start-up: %s\n", strerror(-rc));
		return 1;
	}
	if ((rc = icmp_open()) < 0)
		log_warn("no raw ICMP socket (%s): PING is answered UNREACHABLE 13 and connect "
			 "errors are mapped from errno (run as root or with CAP_NET_RAW)",
			 strerror(-rc));
	log_info("%s starting: appliance %s:%u%s%s, pool %u", AGENT_SOFTWARE, conf.appliance,
		 conf.port, conf.proxy.set ? " via proxy " : "", conf.proxy.set ? conf.proxy.host : "",
		 conf.stream_pool);
	ctl_start();
	rc = loop_run(&stop);
	if (rc < 0)
		log_err("event loop: %s", strerror(-rc));
	shutdown_all();
	log_info("stopped");
	return rc < 0 ? 1 : 0;
}
