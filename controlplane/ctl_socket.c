/* Control socket server: framing per sluice/ctl.h, many clients, poll() loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sluice/ctl.h>

#include "ctl_socket.h"
#include "log.h"

#define MAX_CLIENTS 64

struct client {
	int fd;
	size_t in_len;             /* bytes in `in` */
	uint8_t in[4 + CTL_MAX_REQ];
	struct sbuf out;           /* response frame being sent */
	size_t out_off;
	int close_after;           /* close once `out` is sent (malformed frame) */
};

struct ctl_server {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_exec_fn fn;
	void *arg;
	struct client *cl[MAX_CLIENTS];
	unsigned int n;
};

/* mkdir -p for the socket's parent directory */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
				cp_log("mkdir %s: %s", dir, strerror(errno));
				return -errno;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

/* Remove a socket left by a server that is gone; refuse to touch anything
 * else (a live server's socket, or a file that is not a socket). */
static int remove_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		cp_log("%s exists and is not a socket; not removing it", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (ret == 0) {
		cp_log("%s: another server is listening there", path);
		return -EADDRINUSE;
	}
	if (unlink(path) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}

struct ctl_server *ctl_server_open(const char *path, ctl_exec_fn fn, void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_server *s;
	mode_t old;
	int ret;

	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		cp_log("socket path '%s' is empty or longer than %zu bytes",
		       path ? path : "", sizeof(sa.sun_path) - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->fd = -1;
	s->fn = fn;
	s->arg = arg;
	snprintf(s->path, sizeof(s->path), "%s", path);

	ret = make_parent(path);
	if (ret == 0)
		ret = remove_stale(path, &sa);
	if (ret < 0)
		goto fail;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ret = -errno;
		goto fail;
	}
	/* no window in which the socket exists with wider permissions */
	old = umask(0177);
	ret = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret != 0) {
		ret = -errno;
		cp_log("bind %s: %s", path, strerror(-ret));
		goto fail;
	}
	if (chmod(path, 0600) != 0 || listen(s->fd, SOMAXCONN) != 0) {
		ret = -errno;
		cp_log("chmod/listen %s: %s", path, strerror(-ret));
		unlink(path);
		goto fail;
	}
	return s;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	errno = -ret;
	return NULL;
}

static void client_free(struct ctl_server *s, unsigned int i)
{
	struct client *c = s->cl[i];

	close(c->fd);
	sbuf_free(&c->out);
	free(c);
	s->cl[i] = s->cl[--s->n];
}

/* Frame `text` as a response: u32 length || u8 status || text. */
static void respond(struct client *c, int status, const struct sbuf *text)
{
	uint32_t len;
	uint8_t st = (uint8_t)status;

	sbuf_reset(&c->out);
	c->out_off = 0;
	if (text->oom || text->len + 1 > CTL_MAX_RESP) {
		static const char msg[] = "response too large or out of memory";

		len = htonl(sizeof(msg)); /* status byte + text without the NUL */
		st = CTL_ERR;
		sbuf_put(&c->out, (const char *)&len, 4);
		sbuf_put(&c->out, (const char *)&st, 1);
		sbuf_put(&c->out, msg, sizeof(msg) - 1);
		return;
	}
	len = htonl((uint32_t)text->len + 1);
	sbuf_put(&c->out, (const char *)&len, 4);
	sbuf_put(&c->out, (const char *)&st, 1);
	sbuf_put(&c->out, text->p ? text->p : "", text->len);
	if (c->out.oom)
		c->close_after = 1;
}

static void respond_error(struct client *c, int json, const char *msg)
{
	struct sbuf t;

	sbuf_init(&t);
	if (json) {
		sbuf_puts(&t, "{\"error\":");
		sbuf_json_str(&t, msg);
		sbuf_puts(&t, "}");
	} else {
		sbuf_puts(&t, msg);
	}
	respond(c, CTL_ERR, &t);
	sbuf_free(&t);
}

/* Handle the complete frames in c->in, one at a time: a response must be
 * sent before the next request is read (requests are answered in order). */
static void process_input(struct ctl_server *s, struct client *c)
{
	char *argv[CTL_MAX_ARGS];
	unsigned int flags = 0;
	struct sbuf text;
	uint32_t len;
	int argc, st;

	if (c->out.len > c->out_off || c->close_after || c->in_len < 4)
		return;
	memcpy(&len, c->in, 4);
	len = ntohl(len);
	if (len == 0 || len > CTL_MAX_REQ) {
		respond_error(c, 0, "malformed request: bad frame length");
		c->close_after = 1;
		return;
	}
	if (c->in_len < 4 + len)
		return;
	argc = ctl_req_decode(c->in + 4, len, &flags, argv);
	if (argc < 0) {
		respond_error(c, c->in[4] & CTL_F_JSON,
			      argc == -E2BIG ? "malformed request: too many arguments"
					     : "malformed request: bad payload");
		c->close_after = 1;
		return;
	}
	sbuf_init(&text);
	st = s->fn(s->arg, flags, argc, argv, &text);
	respond(c, st, &text);
	sbuf_free(&text);
	c->in_len -= 4 + len;
	memmove(c->in, c->in + 4 + len, c->in_len);
}

/* 0 to keep the client, -1 to close it */
static int client_read(struct ctl_server *s, struct client *c)
{
	ssize_t n;

	/* read only while no response is pending: back-pressure on pipelining */
	if (c->out.len > c->out_off || c->close_after)
		return 0;
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n == 0)
		return -1;
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	c->in_len += (size_t)n;
	process_input(s, c);
	return 0;
}

static int client_write(struct ctl_server *s, struct client *c)
{
	while (c->out.len > c->out_off) {
		ssize_t n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->out_off += (size_t)n;
	}
	sbuf_reset(&c->out);
	c->out_off = 0;
	if (c->close_after)
		return -1;
	process_input(s, c); /* a pipelined request may be waiting */
	return 0;
}

static void accept_clients(struct ctl_server *s)
{
	for (;;) {
		struct client *c;
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				cp_log("accept: %s", strerror(errno));
			return;
		}
		if (s->n == MAX_CLIENTS || (c = calloc(1, sizeof(*c))) == NULL) {
			static const char msg[] = "\0\0\0\x11\x01too many clients";

			_Static_assert(sizeof(msg) - 1 == 4 + 0x11, "frame length");
			if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				(void)0; /* best effort */
			close(fd);
			continue;
		}
		c->fd = fd;
		sbuf_init(&c->out);
		s->cl[s->n++] = c;
	}
}

int ctl_server_poll(struct ctl_server *s, int timeout_ms)
{
	struct pollfd pfd[MAX_CLIENTS + 1];
	struct client *polled[MAX_CLIENTS];
	unsigned int i, n;
	int ret;

	pfd[0] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
	for (i = 0; i < s->n; i++) {
		struct client *c = s->cl[i];

		polled[i] = c;
		pfd[i + 1].fd = c->fd;
		pfd[i + 1].events = c->out.len > c->out_off ? POLLOUT : POLLIN;
		pfd[i + 1].revents = 0;
	}
	n = s->n;
	ret = poll(pfd, n + 1, timeout_ms);
	if (ret < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		struct client *c = polled[i];
		short ev = pfd[i + 1].revents;
		int drop = 0;

		if (ev == 0)
			continue;
		if (ev & POLLOUT)
			drop = client_write(s, c);
		else if (ev & (POLLIN | POLLHUP | POLLERR))
			drop = client_read(s, c);
		if (!drop && c->out.len > c->out_off)
			drop = client_write(s, c); /* usually completes at once */
		if (drop) {
			unsigned int k;

			for (k = 0; k < s->n; k++) {
				if (s->cl[k] == c) {
					client_free(s, k);
					break;
				}
			}
		}
	}
	if (pfd[0].revents & POLLIN)
		accept_clients(s);
	return 0;
}

void ctl_server_close(struct ctl_server *s)
{
	if (s == NULL)
		return;
	while (s->n)
		client_free(s, 0);
	close(s->fd);
	unlink(s->path);
	free(s);
}
