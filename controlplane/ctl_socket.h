/*
 * The control socket server (protocol: sluice/ctl.h).  Single-threaded: one
 * poll() loop serves every client; each client has its own buffers, and a bad
 * client is closed without affecting the others.
 */
#ifndef SLUICE_CP_CTL_SOCKET_H
#define SLUICE_CP_CTL_SOCKET_H

#include "out.h"

/* Run one decoded request; write the response text to `out`; return CTL_OK or
 * CTL_ERR. */
typedef int (*ctl_exec_fn)(void *arg, unsigned int flags, int argc, char *argv[], struct sbuf *out);

struct ctl_server;

/* Create the parent directory (0755) if missing, remove a stale socket (one
 * nobody is listening on), bind, chmod 0600, listen.  NULL with errno
 * (EADDRINUSE: another server answers on that path). */
struct ctl_server *ctl_server_open(const char *path, ctl_exec_fn fn, void *arg);

/* Wait up to timeout_ms for activity and serve it.  0, or -errno from poll()
 * (-EINTR when a signal arrived). */
int ctl_server_poll(struct ctl_server *s, int timeout_ms);

/* Close every client and the listener, and unlink the socket. */
void ctl_server_close(struct ctl_server *s);

#endif
