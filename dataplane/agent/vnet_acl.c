/*
 * Vnet ACLs over rte_acl (vnet_acl.h).  One context holds the rules of all
 * vnets; the vnet is a field like the others, so a rule can only match
 * packets of its own vnet.  First match wins through priorities: rule i
 * gets RTE_ACL_MAX_PRIORITY - i (rte_acl returns the highest), and carries
 * i + 1 as userdata (0 is rte_acl's "no match").
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "vnet_acl.h"

#define LOG(lvl, fmt, ...) RTE_LOG(lvl, USER1, "%s: " fmt "\n", __func__, ##__VA_ARGS__)

enum {
	F_PROTO,
	F_VNET,
	F_HAS_PORTS,
	F_SRC,
	F_DST,
	F_SPORT,
	F_DPORT,
	F_NUM
};

RTE_ACL_RULE_DEF(vnet_acl_rule, F_NUM);

/* Field i of the key; input_index names the 4-byte word the field sits in
 * (the first field, one byte, is read on its own). */
static const struct rte_acl_field_def acl_defs[F_NUM] = {
	[F_PROTO] = { .type = RTE_ACL_FIELD_TYPE_BITMASK, .size = sizeof(uint8_t),
		      .field_index = F_PROTO, .input_index = 0,
		      .offset = offsetof(struct vnet_acl_key, proto) },
	[F_VNET] = { .type = RTE_ACL_FIELD_TYPE_BITMASK, .size = sizeof(uint16_t),
		     .field_index = F_VNET, .input_index = 1,
		     .offset = offsetof(struct vnet_acl_key, vnet) },
	[F_HAS_PORTS] = { .type = RTE_ACL_FIELD_TYPE_BITMASK, .size = sizeof(uint16_t),
			  .field_index = F_HAS_PORTS, .input_index = 1,
			  .offset = offsetof(struct vnet_acl_key, has_ports) },
	[F_SRC] = { .type = RTE_ACL_FIELD_TYPE_MASK, .size = sizeof(uint32_t),
		    .field_index = F_SRC, .input_index = 2,
		    .offset = offsetof(struct vnet_acl_key, src) },
	[F_DST] = { .type = RTE_ACL_FIELD_TYPE_MASK, .size = sizeof(uint32_t),
		    .field_index = F_DST, .input_index = 3,
		    .offset = offsetof(struct vnet_acl_key, dst) },
	[F_SPORT] = { .type = RTE_ACL_FIELD_TYPE_RANGE, .size = sizeof(uint16_t),
		      .field_index = F_SPORT, .input_index = 4,
		      .offset = offsetof(struct vnet_acl_key, sport) },
	[F_DPORT] = { .type = RTE_ACL_FIELD_TYPE_RANGE, .size = sizeof(uint16_t),
		      .field_index = F_DPORT, .input_index = 4,
		      .offset = offsetof(struct vnet_acl_key, dport) },
};

/*
 * Memory budget handed to rte_acl_build.  With none (max_size 0) rte_acl
 * starts from its smallest per-trie node limit and splits the rules over
 * many tries, each walked for every packet (one random set of 5000 rules:
 * 6 tries, 62 MB, classify ~6x slower).  With a budget it starts from its
 * largest limit and splits only to stay under it (same set: 1 trie,
 * 13 MB).  A rule set that cannot fit is built again without one; rte_acl
 * has then tried every smaller limit first, so such a build takes several
 * times longer -- control-plane time, not the workers'.
 */
#define ACL_MEM_BUDGET (64u << 20)

/* Packets per rte_acl_classify call: the keys and results live on the
 * stack, so classify never allocates. */
#define CLASSIFY_CHUNK 64

struct vnet_acl {
	struct rte_acl_ctx *ctx;        /* NULL for an empty rule set */
	unsigned int n;
	char name[RTE_ACL_NAMESIZE];
};

static inline uint32_t mask_of(unsigned int plen)
{
	return plen == 0 ? 0 : ~0u << (32 - plen);
}

static int rule_check(const struct sl_acl_rule *x)
{
	/* a prefix with host bits never matches in acl_match(); rte_acl
	 * would mask them off and match, so refuse rather than differ */
	if (x->src_plen > 32 || x->dst_plen > 32 ||
	    (x->src & ~mask_of(x->src_plen)) || (x->dst & ~mask_of(x->dst_plen)))
		return -EINVAL;
	if (x->sport_lo > x->sport_hi || x->dport_lo > x->dport_hi)
		return -EINVAL;
	return 0;
}

static void rule_make(const struct sl_acl_rule *x, unsigned int i, struct vnet_acl_rule *o)
{
	int port_rule = x->proto == 6 || x->proto == 17;
	int any_ports = x->sport_lo == 0 && x->sport_hi == 65535 &&
			x->dport_lo == 0 && x->dport_hi == 65535;

	memset(o, 0, sizeof(*o));
	o->data.category_mask = 1;
	o->data.priority = (int32_t)(RTE_ACL_MAX_PRIORITY - i);
	o->data.userdata = i + 1;

	o->field[F_PROTO].value.u8 = x->proto;
	o->field[F_PROTO].mask_range.u8 = x->proto ? UINT8_MAX : 0;
	o->field[F_VNET].value.u16 = x->vnet;
	o->field[F_VNET].mask_range.u16 = UINT16_MAX;
	o->field[F_SRC].value.u32 = x->src;
	o->field[F_SRC].mask_range.u32 = x->src_plen;
	o->field[F_DST].value.u32 = x->dst;
	o->field[F_DST].mask_range.u32 = x->dst_plen;

	/* Ports count only for a TCP/UDP rule (acl_match ignores them on
	 * any other); narrowed ports also demand a packet that has them. */
	if (port_rule && !any_ports) {
		o->field[F_HAS_PORTS].value.u16 = 1;
		o->field[F_HAS_PORTS].mask_range.u16 = 1;
		o->field[F_SPORT].value.u16 = x->sport_lo;
		o->field[F_SPORT].mask_range.u16 = x->sport_hi;
		o->field[F_DPORT].value.u16 = x->dport_lo;
		o->field[F_DPORT].mask_range.u16 = x->dport_hi;
	} else {
		o->field[F_SPORT].mask_range.u16 = UINT16_MAX;
		o->field[F_DPORT].mask_range.u16 = UINT16_MAX;
	}
}

/* rte_acl_create() hands back an existing context of the same name instead
 * of failing, so every classifier gets a name of its own. */
static struct rte_acl_ctx *ctx_create(const char *name, unsigned int n, int socket, char out[RTE_ACL_NAMESIZE])
{
	static _Atomic uint32_t gen;
	struct rte_acl_param prm = {
		.socket_id = socket,
		.rule_size = RTE_ACL_RULE_SZ(F_NUM),
		.max_rule_num = n,
	};

	for (int tries = 0; tries < 64; tries++) {
		uint32_t g = atomic_fetch_add(&gen, 1);
		struct rte_acl_ctx *ctx;

		snprintf(out, RTE_ACL_NAMESIZE, "%.20s.%u", name, g);
		if (rte_acl_find_existing(out))
			continue;
		prm.name = out;
		ctx = rte_acl_create(&prm);
		if (!ctx)
			errno = rte_errno ? rte_errno : ENOMEM;
		return ctx;
	}
	errno = EEXIST;
	return NULL;
}

static struct vnet_acl *fail(int e, int *err)
{
	if (err)
		*err = -e;
	errno = e;
	return NULL;
}

struct vnet_acl *vnet_acl_build(const char *name, const struct sl_acl_rule *r, unsigned int n,
				int socket, int *err)
{
	struct rte_acl_config cfg = {
		.num_categories = 1, .num_fields = F_NUM, .max_size = ACL_MEM_BUDGET,
	};
	struct vnet_acl *a;
	int rc;

	if (!name || (n && !r))
		return fail(EINVAL, err);
	if (n > VNET_ACL_RULES_MAX)
		return fail(E2BIG, err);
	for (unsigned int i = 0; i < n; i++)
		if (rule_check(&r[i]) < 0) {
			LOG(ERR, "%s: rule %u (id %u) is malformed", name, i, r[i].id);
			return fail(EINVAL, err);
		}

	a = rte_zmalloc_socket("vnet_acl", sizeof(*a), RTE_CACHE_LINE_SIZE, socket);
	if (!a)
		return fail(ENOMEM, err);
	a->n = n;
	snprintf(a->name, sizeof(a->name), "%s", name);
	if (n == 0) {
		/* rte_acl_build refuses an empty context: classify knows */
		if (err)
			*err = 0;
		return a;
	}

	a->ctx = ctx_create(name, n, socket, a->name);
	if (!a->ctx) {
		rc = -errno;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct vnet_acl_rule o;

		rule_make(&r[i], i, &o);
		rc = rte_acl_add_rules(a->ctx, (const struct rte_acl_rule *)&o, 1);
		if (rc < 0)
			goto out;
	}
	memcpy(cfg.defs, acl_defs, sizeof(acl_defs));
	rc = rte_acl_build(a->ctx, &cfg);
	if (rc == -ERANGE) {
		LOG(WARNING, "%s: %u rules do not fit %u MB: split over more tries",
		    a->name, n, ACL_MEM_BUDGET >> 20);
		cfg.max_size = 0;
		rc = rte_acl_build(a->ctx, &cfg);
	}
	if (rc < 0) {
		LOG(ERR, "%s: rte_acl_build over %u rules: %s", a->name, n, rte_strerror(-rc));
		goto out;
	}
	if (err)
		*err = 0;
	return a;
out:
	vnet_acl_free(a);
	return fail(-rc, err);
}

void vnet_acl_key_make(const struct acl_pkt *p, struct vnet_acl_key *k)
{
	k->proto = p->proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	k->vnet = rte_cpu_to_be_16(p->vnet);
	k->has_ports = rte_cpu_to_be_16(p->has_ports ? 1 : 0);
	k->src = rte_cpu_to_be_32(p->src);
	k->dst = rte_cpu_to_be_32(p->dst);
	k->sport = p->has_ports ? rte_cpu_to_be_16(p->sport) : 0;
	k->dport = p->has_ports ? rte_cpu_to_be_16(p->dport) : 0;
}

int vnet_acl_classify(const struct vnet_acl *a, const struct acl_pkt *const p[], unsigned int n,
		      int16_t idx_out[])
{
	struct vnet_acl_key keys[CLASSIFY_CHUNK];
	const uint8_t *data[CLASSIFY_CHUNK];
	uint32_t res[CLASSIFY_CHUNK];

	if (!a || (n && (!p || !idx_out)))
		return -EINVAL;
	if (!a->ctx) {
		for (unsigned int i = 0; i < n; i++)
			idx_out[i] = -1;
		return 0;
	}
	for (unsigned int off = 0; off < n; off += CLASSIFY_CHUNK) {
		unsigned int m = RTE_MIN(n - off, (unsigned int)CLASSIFY_CHUNK);
		int rc;

		for (unsigned int i = 0; i < m; i++) {
			vnet_acl_key_make(p[off + i], &keys[i]);
			data[i] = (const uint8_t *)&keys[i];
		}
		rc = rte_acl_classify(a->ctx, data, res, m, 1);
		if (rc < 0)
			return rc;
		for (unsigned int i = 0; i < m; i++)
			idx_out[off + i] = (int16_t)((int32_t)res[i] - 1);
	}
	return 0;
}

unsigned int vnet_acl_count(const struct vnet_acl *a)
{
	return a ? a->n : 0;
}

void vnet_acl_free(struct vnet_acl *a)
{
	if (!a)
		return;
	rte_acl_free(a->ctx);
	rte_free(a);
}
