/*
 * Event loop: epoll (level-triggered), a binary min-heap of timers and the
 * graveyard of objects closed during a batch (loop.h says why).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

#define BATCH 64

static int epfd = -1;
static struct timer **heap;
static size_t heap_len, heap_cap;
static struct grave *graveyard;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------------ fds -- */

void ev_init(struct ev *ev, void (*cb)(struct ev *ev, uint32_t events))
{
	ev->fd = -1;
	ev->want = 0;
	ev->in_set = 0;
	ev->cb = cb;
}

static int sync_set(struct ev *ev)
{
	struct epoll_event e = { .events = ev->want, .data.ptr = ev };
	int op;

	if (ev->want == 0) {
		if (!ev->in_set)
			return 0;
		op = EPOLL_CTL_DEL;
	} else {
		op = ev->in_set ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	}
	if (epoll_ctl(epfd, op, ev->fd, &e) < 0)
		return -errno;
	ev->in_set = ev->want != 0;
	return 0;
}

int ev_attach(struct ev *ev, int fd, uint32_t want)
{
	int rc;

	ev->fd = fd;
	ev->want = want;
	ev->in_set = 0;
	rc = sync_set(ev);
	if (rc < 0) {
		ev->fd = -1; /* the caller still owns fd */
		ev->want = 0;
	}
	return rc;
}

int ev_want(struct ev *ev, uint32_t want)
{
	if (ev->fd < 0 || ev->want == want)
		return 0;
	ev->want = want;
	return sync_set(ev);
}

int ev_detach(struct ev *ev)
{
	int fd = ev->fd;

	if (fd >= 0 && ev->in_set)
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	ev->in_set = 0;
	ev->want = 0;
	ev->fd = -1;
	return fd;
}

void ev_close(struct ev *ev)
{
	int fd = ev_detach(ev);

	if (fd >= 0)
		close(fd);
}

/* --------------------------------------------------------------- timers -- */

static void heap_set(size_t i, struct timer *t)
{
	heap[i] = t;
	t->idx = (int)i;
}

static void sift_up(size_t i)
{
	struct timer *t = heap[i];

	while (i > 0 && heap[(i - 1) / 2]->due > t->due) {
		heap_set(i, heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(i, t);
}

static void sift_down(size_t i)
{
	struct timer *t = heap[i];
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= heap_len)
			break;
		if (c + 1 < heap_len && heap[c + 1]->due < heap[c]->due)
			c++;
		if (heap[c]->due >= t->due)
			break;
		heap_set(i, heap[c]);
		i = c;
	}
	heap_set(i, t);
}

void timer_init(struct timer *t, void (*cb)(struct timer *t))
{
	t->due = 0;
	t->idx = -1;
	t->cb = cb;
}

void timer_cancel(struct timer *t)
{
	size_t i;

	if (t->idx < 0)
		return;
	i = (size_t)t->idx;
	t->idx = -1;
	heap_len--;
	if (i == heap_len)
		return;
	heap_set(i, heap[heap_len]);
	sift_up(i);
	sift_down((size_t)heap[i]->idx);
}

void timer_arm(struct timer *t, uint64_t after_ms)
{
	struct timer **h;

	timer_cancel(t);
	if (heap_len == heap_cap) {
		/* Every timer belongs to a bounded object (config limits), so
		 * this grows a few times at most. */
		h = realloc(heap, (heap_cap ? heap_cap * 2 : 64) * sizeof(*h));
		if (h == NULL) {
			log_err("out of memory for timers");
			abort();
		}
		heap = h;
		heap_cap = heap_cap ? heap_cap * 2 : 64;
	}
	t->due = now_ms() + after_ms;
	heap_set(heap_len++, t);
	sift_up(heap_len - 1);
}

/* Fire what is due; the milliseconds until the next timer (-1: none). */
static int run_timers(void)
{
	uint64_t now = now_ms();
	struct timer *t;

	while (heap_len > 0 && heap[0]->due <= now) {
		t = heap[0];
		timer_cancel(t);
		t->cb(t);
	}
	if (heap_len == 0)
		return -1;
	now = now_ms();
	return heap[0]->due <= now ? 0 : (int)(heap[0]->due - now > 60000 ? 60000 : heap[0]->due - now);
}

/* ------------------------------------------------------------ graveyard -- */

void loop_bury(struct grave *g, void (*fn)(struct grave *g))
{
	g->free = fn;
	g->next = graveyard;
	graveyard = g;
}

static void empty_graveyard(void)
{
	struct grave *g;

	while ((g = graveyard) != NULL) {
		graveyard = g->next;
		g->free(g);
	}
}

/* ----------------------------------------------------------------- loop -- */

int loop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? -errno : 0;
}

int loop_run(volatile int *stop)
{
	struct epoll_event evs[BATCH];
	struct ev *ev;
	int n, i, wait;

	while (!*stop) {
		wait = run_timers();
		empty_graveyard();
		if (*stop)
			break;
		n = epoll_wait(epfd, evs, BATCH, wait);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n; i++) {
			ev = evs[i].data.ptr;
			if (ev->fd >= 0) /* not closed by an earlier event of this batch */
				ev->cb(ev, evs[i].events);
		}
		empty_graveyard();
	}
	return 0;
}

void loop_fini(void)
{
	empty_graveyard();
	free(heap);
	heap = NULL;
	heap_len = heap_cap = 0;
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
}
