/*
 * sluice-lstp: the LSTP end proxy of S3 (docs/sluice-lstp.md).  Role
 * client or server: dials the middle (directly, through SOCKS5 or HTTP
 * CONNECT), pairs with the far end, secures the tunnel end to end (TLS
 * 1.3, mutual X.509) and relays channels over it.  Role middle: the
 * one-firewall case, a client end that is itself the middle the server end
 * dials.
 *
 * One thread, one epoll loop (agent/loop.c).  Signals through a signalfd:
 * SIGTERM/SIGINT send SHUTDOWN and exit 0, SIGUSR1 prints the counters.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "lstp.h"

const struct lstp_conf *lcf;
struct lstp_stats lstp_stats;

static struct lstp_conf conf;
static volatile int stop;
static struct ev sigev;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-lstp -c FILE [-v] [--check]\n"
		"\n"
		"The LSTP end proxy (S3).  Role client or server: dials the middle proxy\n"
		"(directly, through a SOCKS5 proxy or an HTTP CONNECT proxy), is paired by it\n"
		"with the far end of the same 'common', then runs TLS 1.3 end to end through\n"
		"the middle (mutual X.509 against the configured CA) and relays channels over\n"
		"the one tunnel.  The client end takes local applications on its SOCKS5 port\n"
		"(RFC 1928 CONNECT, RFC 1929 user/password) and forward ports; the server\n"
		"end connects to its services and allowed destinations.  Role middle is a\n"
		"client end that is itself the middle the server end dials (one firewall).\n"
		"It never exits on a network error: the tunnel is redialed with a capped\n"
		"exponential backoff.\n"
		"\n"
		"  -c, --config FILE  the configuration (reference: docs/sluice-lstp.md)\n"
		"      --check        load the configuration, CA, certificate and key, print\n"
		"                     whether they are valid, exit 0 (valid) or 1\n"
		"  -v, --verbose      log more (debug: every message and channel)\n"
		"  -h, --help         this text\n"
		"      --version      print the version\n"
		"\n"
		"Logs go to stderr.  Signals: SIGTERM/SIGINT end the tunnel with SHUTDOWN and\n"
		"exit 0; SIGUSR1 prints the counters.  Exit status: 0 (stopped by a signal,\n"
		"or --check passed), 1 (bad configuration or start-up failed), 2 (bad options).\n");
}

static void print_counters(void)
{
	fprintf(stderr,
		"sluice-lstp counters:\n"
		"  tunnel               %s\n"
		"  channels             %u\n"
		"  local (SOCKS talk)   %u\n",
		tun_state_str(), chan_count(), chan_local_count());
#define LSTP_STAT_PRINT(name, desc) \
	fprintf(stderr, "  %-20s %llu  (%s)\n", #name, (unsigned long long)lstp_stats.name, desc);
	LSTP_COUNTERS(LSTP_STAT_PRINT)
#undef LSTP_STAT_PRINT
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
			printf("%s\n", LSTP_SOFTWARE);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice-lstp: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (*path == NULL) {
		fprintf(stderr, "sluice-lstp: no configuration given (-c FILE)\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	char err[1024];
	int check = 0, rc;

	if (parse_args(argc, argv, &path, &check) < 0)
		return 2;
	if (lstp_conf_load(&conf, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-lstp: %s\n", err);
		return 1;
	}
	lcf = &conf;
	if (tls_setup(&conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-lstp: %s: %s\n", path, err);
		lstp_conf_wipe(&conf);
		return 1;
	}
	if (check) {
		printf("%s: configuration OK (role %s, name %s, middle %s:%u%s)\n", path,
		       lstp_conf_role_str(conf.role), conf.name, conf.middle_host, conf.middle_port,
		       conf.proxy.kind == LC_PROXY_SOCKS5 ? " via SOCKS5" :
		       conf.proxy.kind == LC_PROXY_HTTP ? " via HTTP CONNECT" : "");
		tls_teardown();
		lstp_conf_wipe(&conf);
		return 0;
	}
	seed_random();
	if ((rc = loop_init()) < 0 || (rc = signals_setup()) < 0) {
		fprintf(stderr, "sluice-lstp: start-up: %s\n", strerror(-rc));
		return 1;
	}
	if (chan_listen(err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-lstp: %s\n", err);
		return 1;
	}
	if ((rc = tun_start()) < 0) {
		fprintf(stderr, "sluice-lstp: listen %s:%u: %s\n", conf.middle_host, conf.middle_port,
			strerror(-rc));
		return 1;
	}
	log_info("%s starting: role %s, name %s, middle %s:%u", LSTP_SOFTWARE,
		 lstp_conf_role_str(conf.role), conf.name, conf.middle_host, conf.middle_port);
	rc = loop_run(&stop);
	if (rc < 0)
		log_err("event loop: %s", strerror(-rc));
	tun_stop();
	chan_close_all();
	ev_close(&sigev);
	loop_fini();
	tls_teardown();
	lstp_conf_wipe(&conf);
	log_info("stopped");
	return rc < 0 ? 1 : 0;
}
