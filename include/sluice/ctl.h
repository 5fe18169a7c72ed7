/*
 * Control-socket protocol between sluicectl and sluice-cp.
 *
 * UNIX stream socket (default /run/sluice/ctl.sock, mode 0600).  One request,
 * one response, repeated as long as the client keeps the connection open.
 *
 *   request  = u32 length (network order, 1..CTL_MAX_REQ) || payload
 *   payload  = u8 flags || token "\0" token "\0" ...   (argv of the command)
 *   response = u32 length (network order, 1..CTL_MAX_RESP) || u8 status || text
 *
 * status is CTL_OK or CTL_ERR; text is human-readable, or a single JSON object
 * when the request had CTL_F_JSON (errors then are {"error": "..."}).  A
 * malformed frame gets an error response and the connection is closed; it never
 * affects other clients or the daemon.
 */
#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H

#include <stdint.h>
#include <stddef.h>

#define CTL_DEFAULT_SOCKET "/run/sluice/ctl.sock"
#define CTL_MAX_REQ        4096
#define CTL_MAX_RESP       (4u << 20)
#define CTL_MAX_ARGS       32

#define CTL_F_JSON 0x01u

enum ctl_status { CTL_OK = 0, CTL_ERR = 1 };

/* Codec (common/ctl.c): pure functions. */

/* Build a request payload (without the length prefix) into buf.
 * Returns its length, or -EINVAL (bad token, e.g. empty) / -EMSGSIZE. */
int ctl_req_encode(uint8_t *buf, size_t cap, unsigned int flags, int argc, char *const argv[]);

/* Split a received payload in place into argv (pointing into buf).
 * Returns argc (>= 1), or -EINVAL for a malformed payload (no trailing NUL,
 * empty token, unknown flag bits, no tokens) / -E2BIG (> CTL_MAX_ARGS). */
int ctl_req_decode(uint8_t *buf, size_t len, unsigned int *flags, char *argv[CTL_MAX_ARGS]);

#endif
