/*
 * Control plane <-> data plane ring messages.
 *
 * Per lcore slot (see shm.h) one command ring (cp/main -> owner, multi
 * producer, single consumer) and one event ring (owner -> cp, single producer,
 * single consumer).  Elements are fixed-size struct cpdp_msg copied by value
 * (rte_ring_create_elem with esize = sizeof(struct cpdp_msg)).  Every command
 * carries a sequence number; the owner answers with CPDP_REPLY echoing it, so
 * the control plane reports an outcome only after the data plane applied it.
 */
#ifndef SLUICE_CPDP_H
#define SLUICE_CPDP_H

#include <stdint.h>
#include <stddef.h>

#define CPDP_VERSION 4
#define CPDP_RING_SIZE 1024

enum cpdp_type {
	CPDP_NOP = 0,
	CPDP_ROUTE_ADD,   /* u.route */
	CPDP_ROUTE_DEL,   /* u.route: prefix, plen */
	CPDP_IMPAIR_SET,  /* u.impair */
	CPDP_STATS_CLEAR, /* no payload */
	CPDP_RULE_ADD,    /* u.rule */
	CPDP_RULE_DEL,    /* u.rule.id */
	CPDP_ACL_SET,     /* u.acl: use this buffer of the ACL zone (S4 vnets) */
	CPDP_TYPE_MAX,
	CPDP_REPLY = 0x80, /* u.reply */
};

struct cpdp_route {
	uint32_t prefix; /* host order, host bits must be zero */
	uint8_t plen;
	uint8_t type;    /* enum sl_route_type: DIRECT or GATEWAY */
	uint16_t port;   /* output port index */
	uint32_t gw;     /* host order, GATEWAY only */
	uint8_t origin;  /* enum sl_route_origin */
	uint8_t pad[3];
};

struct cpdp_impair {
	uint16_t port;
	uint8_t dir_mask;   /* bit SL_DIR_IN, bit SL_DIR_OUT */
	uint8_t pad;
	uint32_t drop_ppm;
	uint32_t reorder_ppm;
	uint32_t dup_ppm;
	uint64_t seed;      /* 0 = keep the current RNG state */
};

/* Same fields as struct sl_rule (shm.h); host order. */
struct cpdp_rule {
	uint32_t id;
	uint32_t src, dst;
	uint8_t src_plen, dst_plen;
	uint8_t proto;     /* 0 any, 1, 6, 17 */
	uint8_t action;    /* enum sl_rule_action */
	uint16_t dport_lo, dport_hi;
	uint8_t flags;     /* SL_RF_* */
	uint8_t pad;
	uint16_t app;      /* application index + 1, or 0 */
};

struct cpdp_acl {
	uint32_t buf;       /* 0 or 1: sl_acl_zone.r[buf] */
	uint32_t n;         /* rules in it */
};

struct cpdp_reply {
	uint16_t req_type;
	uint16_t pad;
	int32_t status;     /* 0 or -errno */
};

struct cpdp_msg {
	uint16_t version;   /* CPDP_VERSION */
	uint16_t type;      /* enum cpdp_type */
	uint32_t seq;
	union {
		struct cpdp_route route;
		struct cpdp_impair impair;
		struct cpdp_rule rule;
		struct cpdp_acl acl;
		struct cpdp_reply reply;
		uint8_t raw[56];
	} u;
};

_Static_assert(sizeof(struct cpdp_msg) == 64, "cpdp_msg is one cache line");

/* Codec (common/cpdp.c): pure functions, no DPDK. */
void cpdp_msg_init(struct cpdp_msg *m, enum cpdp_type type, uint32_t seq);
int cpdp_route_add_encode(struct cpdp_msg *m, uint32_t seq, const struct cpdp_route *r);
int cpdp_route_del_encode(struct cpdp_msg *m, uint32_t seq, uint32_t prefix, uint8_t plen);
int cpdp_impair_encode(struct cpdp_msg *m, uint32_t seq, const struct cpdp_impair *imp);
int cpdp_rule_add_encode(struct cpdp_msg *m, uint32_t seq, const struct cpdp_rule *r);
int cpdp_rule_del_encode(struct cpdp_msg *m, uint32_t seq, uint32_t id);
int cpdp_acl_set_encode(struct cpdp_msg *m, uint32_t seq, uint32_t buf, uint32_t n);
void cpdp_reply_encode(struct cpdp_msg *reply, const struct cpdp_msg *req, int32_t status);
/* Validate a received message: 0, -EPROTO (version), -EINVAL (type or fields). */
int cpdp_msg_check(const struct cpdp_msg *m);
const char *cpdp_type_str(unsigned int type);

#endif
