/*
 * sluice-agent's event loop: one epoll set, a timer heap and a graveyard.
 *
 * Single-threaded on purpose: every object (control session, STREAM
 * session, relay, pending connect, ping) is touched only from callbacks run
 * here, so nothing needs a lock.  An object closed inside a callback is not
 * freed at once but buried: other events of the same epoll batch may still
 * point at it, and they are skipped because its fd is already -1.  The
 * graveyard is emptied after the batch.
 */
#ifndef SLUICE_AGENT_LOOP_H
#define SLUICE_AGENT_LOOP_H

#include <stddef.h>
#include <stdint.h>

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

/* One file descriptor in the epoll set (level-triggered). */
struct ev {
	int fd;                 /* -1 once closed or detached */
	uint32_t want;          /* EPOLLIN / EPOLLOUT the owner asked for */
	int in_set;             /* registered: a zero interest takes the fd out */
	void (*cb)(struct ev *ev, uint32_t events);
};

void ev_init(struct ev *ev, void (*cb)(struct ev *ev, uint32_t events));
/* Register fd with the given interest; 0 or -errno. */
int ev_attach(struct ev *ev, int fd, uint32_t want);
/* Change the interest.  A zero interest removes the fd from the set, so a
 * peer's hang-up we are not ready to look at (a full buffer) cannot make
 * level-triggered epoll spin; it is seen when interest comes back.  (An
 * owner that must still hear of errors asks for EPOLLET alone instead.) */
int ev_want(struct ev *ev, uint32_t want);
/* Leave the set and hand the fd to the caller (returned). */
int ev_detach(struct ev *ev);
/* Leave the set and close the fd. */
void ev_close(struct ev *ev);

/* Timers, in milliseconds of CLOCK_MONOTONIC. */
struct timer {
	uint64_t due;
	int idx;                /* position in the heap, -1 when not armed */
	void (*cb)(struct timer *t);
};

void timer_init(struct timer *t, void (*cb)(struct timer *t));
void timer_arm(struct timer *t, uint64_t after_ms);
void timer_cancel(struct timer *t);
static inline int timer_armed(const struct timer *t) { return t->idx >= 0; }

/* Deferred free (see the comment at the top). */
struct grave {
	struct grave *next;
	void (*free)(struct grave *g);
};
void loop_bury(struct grave *g, void (*fn)(struct grave *g));

uint64_t now_ms(void);

int loop_init(void);
/* Run until *stop becomes non-zero; 0, or -errno when epoll fails. */
int loop_run(volatile int *stop);
void loop_fini(void);

#endif
