/*
 * sluicectl: send one command to sluice-cp's control socket and print the
 * answer.  Plain C (no DPDK); the protocol is in sluice/ctl.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sluice/ctl.h>

#define EXIT_USAGE 2

static const char *prog = "sluicectl";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [--socket PATH] [--json] [--timeout SEC] COMMAND...\n"
		"\n"
		"Send COMMAND to the Sluice control plane (sluice-cp) and print the answer.\n"
		"\n"
		"  -s, --socket PATH  control socket (default: $SLUICE_CTL, else %s)\n"
		"  -j, --json         ask for one JSON object instead of text\n"
		"                     (--json after the command words works too)\n"
		"  -t, --timeout SEC  give up after SEC seconds, fractions allowed (default 10)\n"
		"  -h, --help         this text\n"
		"\n"
		"Commands (`%s help` asks the server for the full list):\n"
		"  show ports | stats | errors | routes | neighbors | rules | crypto | tcp | pools\n"
		"  show flows [from N] [count M]\n"
		"  route add PREFIX (via ADDR [dev PORT] | dev PORT)\n"
		"  route del PREFIX\n"
		"  rule add [src PFX] [dst PFX] [proto P] [dport N|LO-HI]\n"
		"           action forward|drop|reject|proxy [transparent]\n"
		"  rule del ID\n"
		"  port impair PORT [in|out|both] ([drop PCT] [reorder PCT] [dup PCT] [seed N] | off)\n"
		"  clear counters\n"
		"\n"
		"Output goes to stdout; an error the server reports goes to stderr (to stdout\n"
		"as {\"error\": ...} with --json).\n"
		"Exit status: 0 success, 1 the command failed, 2 usage error or no answer\n"
		"(cannot connect, timeout, protocol error).\n",
		prog, CTL_DEFAULT_SOCKET, prog);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for `events` on fd until the deadline; 0, or -ETIMEDOUT. */
static int wait_fd(int fd, short events, double deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		double left = deadline - now();
		int ret;

		if (left <= 0)
			return -ETIMEDOUT;
		ret = poll(&p, 1, (int)(left * 1000) + 1);
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
	}
}

static void send_all(int fd, const uint8_t *p, size_t n, double deadline, const char *path)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				die("timed out sending to %s", path);
			continue;
		}
		if (w < 0)
			die("sending to %s: %s", path, strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

static void recv_all(int fd, uint8_t *p, size_t n, double deadline, const char *path)
{
	while (n) {
		ssize_t r = recv(fd, p, n, 0);

		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLIN, deadline) != 0)
				die("timed out waiting for an answer from %s", path);
			continue;
		}
		if (r < 0)
			die("reading from %s: %s", path, strerror(errno));
		if (r == 0)
			die("%s closed the connection without a complete answer", path);
		p += r;
		n -= (size_t)r;
	}
}

static int connect_to(const char *path, double deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		/* a UNIX socket says EAGAIN when the listen backlog is full */
		if (errno == EAGAIN || errno == EINTR) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			if (now() >= deadline)
				die("timed out connecting to %s (server busy)", path);
			nanosleep(&ts, NULL);
			continue;
		}
		die("cannot connect to %s: %s (is sluice-cp running? --socket or "
		    "SLUICE_CTL selects another socket)", path, strerror(errno));
	}
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t req[4 + CTL_MAX_REQ];
	const char *path = getenv("SLUICE_CTL");
	unsigned int flags = 0;
	double timeout = 10, deadline;
	uint8_t hdr[5];
	uint32_t len;
	char *text, *end;
	int opt, n, fd;

	if (argv[0] && strrchr(argv[0], '/'))
		prog = strrchr(argv[0], '/') + 1;
	else if (argv[0])
		prog = argv[0];
	if (path == NULL || path[0] == '\0')
		path = CTL_DEFAULT_SOCKET;
	/* "+": options end at the first command word */
	while ((opt = getopt_long(argc, argv, "+s:jt:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'j':
			flags |= CTL_F_JSON;
			break;
		case 't':
			errno = 0;
			timeout = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(timeout > 0) || timeout > 86400)
				die("invalid --timeout '%s' (seconds, > 0)", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}

	n = ctl_req_encode(req + 4, sizeof(req) - 4, flags, argc - optind, argv + optind);
	if (n == -E2BIG)
		die("too many words in the command (at most %d)", CTL_MAX_ARGS);
	if (n == -EMSGSIZE)
		die("command too long (at most %d bytes)", CTL_MAX_REQ);
	if (n < 0)
		die("invalid command: empty word");
	len = htonl((uint32_t)n);
	memcpy(req, &len, 4);

	deadline = now() + timeout;
	fd = connect_to(path, deadline);
	send_all(fd, req, 4 + (size_t)n, deadline, path);
	recv_all(fd, hdr, sizeof(hdr), deadline, path);
	memcpy(&len, hdr, 4);
	len = ntohl(len);
	if (len < 1 || len > CTL_MAX_RESP || hdr[4] > CTL_ERR)
		die("malformed answer from %s", path);
	text = malloc(len);
	if (text == NULL)
		die("out of memory");
	recv_all(fd, (uint8_t *)text, len - 1, deadline, path);
	close(fd);
	text[len - 1] = '\0';

	if (hdr[4] == CTL_OK || text[0] == '{') {
		/* results, and errors in JSON mode, are for whoever reads stdout */
		fputs(text, stdout);
		if (len > 1 && text[len - 2] != '\n')
			fputc('\n', stdout);
	} else {
		fprintf(stderr, "%s: error: %s", prog, text);
		if (len > 1 && text[len - 2] != '\n')
			fputc('\n', stderr);
	}
	free(text);
	if (fflush(stdout) != 0)
		return EXIT_USAGE;
	return hdr[4] == CTL_OK ? 0 : 1;
}
