/*
 * Vnet ACLs compiled with DPDK's rte_acl (S4).  The control plane builds a
 * classifier from the config's rule array (sluice/agent_types.h) and hands
 * the pointer to the workers; a worker classifies a burst with a few trie
 * walks whatever the rule count.  Same answer as acl_match() in
 * vnet_match.h, which stays the reference: first match in array order, no
 * match = -1 (allowed).
 *
 * Threads: vnet_acl_build() and vnet_acl_free() are control-plane calls
 * (they allocate, rte_acl_build is not thread-safe).  vnet_acl_classify()
 * may run on any number of workers at once on the same classifier and
 * never allocates.  Swapping is the caller's: publish the new pointer with
 * a release store, free the old one only once every worker has passed a
 * quiescent point.  Needs the EAL (rte_acl lives in rte_malloc memory).
 */
#ifndef SLUICE_VNET_ACL_H
#define SLUICE_VNET_ACL_H

#include <stdint.h>

#include <sluice/agent_types.h>

#include "vnet_match.h"

/*
 * The classifier's input, built from a struct acl_pkt.  Multi-byte fields
 * are in network order (rte_acl reads its input big-endian).  rte_acl wants
 * the first field one byte long and every later field inside a 4-byte
 * group read as one word; hence proto alone, then four words.
 *
 * has_ports is its own field because no port value can stand for "no
 * ports": a TCP/UDP rule narrowed to ports requires has_ports == 1, every
 * other rule leaves it wild, so a later fragment (no ports) can only match
 * a rule that does not look at ports -- what acl_match() does.
 */
struct vnet_acl_key {
	uint8_t proto;
	uint8_t pad[3];
	uint16_t vnet;          /* BE */
	uint16_t has_ports;     /* BE, 0 or 1 */
	uint32_t src, dst;      /* BE */
	uint16_t sport, dport;  /* BE; 0 without ports */
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(struct vnet_acl_key) == 20, "vnet_acl_key layout");

/* Rules per classifier: what the config can hold, and it keeps the rule
 * index inside the int16_t the classify answer uses. */
#define VNET_ACL_RULES_MAX SL_ACL_RULES_MAX
_Static_assert(VNET_ACL_RULES_MAX <= INT16_MAX, "rule index must fit int16_t");

struct vnet_acl;

/*
 * Compile rules r[0..n) (n may be 0) into a classifier on NUMA `socket`
 * (or SOCKET_ID_ANY).  `name` labels the rte_acl context; a generation is
 * appended so an old and a new classifier can live side by side.  Returns
 * NULL with errno and *err (if not NULL) set to -errno: -EINVAL (a rule
 * with host bits set, plen > 32, lo > hi), -E2BIG (n > VNET_ACL_RULES_MAX),
 * -ENOMEM, or rte_acl's build error.
 */
struct vnet_acl *vnet_acl_build(const char *name, const struct sl_acl_rule *r, unsigned int n,
				int socket, int *err);
/* The packet's classifier input. */
void vnet_acl_key_make(const struct acl_pkt *p, struct vnet_acl_key *k);
/*
 * For each p[i] the index of its first matching rule in the array given to
 * vnet_acl_build, or -1: idx_out[i] == acl_match(r, n, p[i]).  Any n; no
 * allocation.  0, or -EINVAL.
 */
int vnet_acl_classify(const struct vnet_acl *a, const struct acl_pkt *const p[], unsigned int n,
		      int16_t idx_out[]);
/* Rules compiled in. */
unsigned int vnet_acl_count(const struct vnet_acl *a);
/* NULL is fine.  Only once no worker can still be inside classify. */
void vnet_acl_free(struct vnet_acl *a);

#endif
