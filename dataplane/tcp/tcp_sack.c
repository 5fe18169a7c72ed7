/* SACK block generation and the RFC 6675 scoreboard (see tcp_sack.h). */
#include <errno.h>
#include <string.h>

#include "tcp_sack.h"
#include "tcp_seq.h"

/* ------------------------------------------------------------------ */
/* Receiver side                                                       */
/* ------------------------------------------------------------------ */

void tcp_sack_rcv_init(struct tcp_sack_rcv *r)
{
	memset(r, 0, sizeof(*r));
}

/* Queue block i as it may be reported: non-empty and above rcv_nxt (a
 * block straddling rcv_nxt keeps its upper part: SACK blocks describe data
 * above the cumulative ACK, RFC 2018 3).  0, or -1 if nothing is left. */
static int ooo_get(const struct tcp_sack_block *ooo, unsigned int i, uint32_t rcv_nxt,
		   struct tcp_sack_block *b)
{
	if (!seq_lt(ooo[i].start, ooo[i].end) || seq_leq(ooo[i].end, rcv_nxt))
		return -1;
	b->start = seq_max(ooo[i].start, rcv_nxt);
	b->end = ooo[i].end;
	return 0;
}

/* The reportable queue block sharing sequence space with x, if any. */
static int ooo_find(const struct tcp_sack_block *ooo, unsigned int n_ooo, uint32_t rcv_nxt,
		    const struct tcp_sack_block *x, struct tcp_sack_block *b)
{
	for (unsigned int i = 0; i < n_ooo; i++) {
		if (ooo_get(ooo, i, rcv_nxt, b) < 0)
			continue;
		if (seq_lt(b->start, x->end) && seq_lt(x->start, b->end))
			return 0;
	}
	return -1;
}

static int listed(const struct tcp_sack_block *out, unsigned int from, unsigned int k,
		  const struct tcp_sack_block *b)
{
	for (unsigned int j = from; j < k; j++)
		if (out[j].start == b->start && out[j].end == b->end)
			return 1;
	return 0;
}

unsigned int tcp_sack_rcv_build(struct tcp_sack_rcv *r, uint32_t rcv_nxt,
				const struct tcp_sack_block *ooo, unsigned int n_ooo,
				const struct tcp_sack_block *recent,
				const struct tcp_sack_block *dsack,
				struct tcp_sack_block *out, unsigned int max)
{
	struct tcp_sack_block b;
	unsigned int k = 0, first;

	if (max > TCP_SACK_MAX)
		max = TCP_SACK_MAX;
	if (max == 0)
		return 0; /* no room: keep the history for the next ACK */
	/* RFC 2883 4: the duplicate goes first; the block holding it (when the
	 * caller passes the duplicate as `recent`) naturally comes second */
	if (dsack != NULL && seq_lt(dsack->start, dsack->end))
		out[k++] = *dsack;
	first = k;
	/* RFC 2018 4: the block holding the segment that triggered this ACK */
	if (recent != NULL && k < max && ooo_find(ooo, n_ooo, rcv_nxt, recent, &b) == 0)
		out[k++] = b;
	/* then the most recently reported ones, as they have grown since */
	for (unsigned int h = 0; h < r->n && k < max; h++)
		if (ooo_find(ooo, n_ooo, rcv_nxt, &r->last[h], &b) == 0 && !listed(out, first, k, &b))
			out[k++] = b;
	/* then blocks never reported (or pushed out of the history), lowest
	 * first: O(max * n_ooo), both small */
	while (k < max) {
		struct tcp_sack_block best = { 0, 0 };
		int found = 0;

		for (unsigned int i = 0; i < n_ooo; i++) {
			if (ooo_get(ooo, i, rcv_nxt, &b) < 0 || listed(out, first, k, &b))
				continue;
			if (!found || seq_lt(b.start, best.start)) {
				best = b;
				found = 1;
			}
		}
		if (!found)
			break;
		out[k++] = best;
	}
	if (k == first && first == max)
		return k; /* only the D-SACK fitted: the history still stands */
	r->n = (uint8_t)(k - first);
	memcpy(r->last, &out[first], r->n * sizeof(out[0]));
	return k;
}

/* ------------------------------------------------------------------ */
/* Sender side                                                         */
/* ------------------------------------------------------------------ */

void tcp_sb_init(struct tcp_sb *sb, uint32_t snd_una)
{
	memset(sb, 0, sizeof(*sb));
	sb->high_rxt = snd_una;
	/* RFC 6582 3.2 step 1: recover starts at the initial send sequence, so
	 * the first loss may start recovery */
	sb->recovery_point = snd_una;
}

void tcp_sb_clear(struct tcp_sb *sb)
{
	sb->n = 0;
}

/* Drop everything at or below una: the cumulative ACK has it. */
static void trim(struct tcp_sb *sb, uint32_t una)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < sb->n; i++) {
		struct tcp_sack_block b = sb->r[i];

		if (seq_leq(b.end, una))
			continue;
		if (seq_lt(b.start, una))
			b.start = una;
		sb->r[k++] = b;
	}
	sb->n = (uint8_t)k;
}

/* Insert [s, e), merging with every range it overlaps or touches.
 * Returns the bytes that were not SACKed before. */
static uint32_t add(struct tcp_sb *sb, uint32_t s, uint32_t e)
{
	unsigned int i = 0, j;
	uint32_t covered = 0, len = e - s;

	while (i < sb->n && seq_lt(sb->r[i].end, s))
		i++;
	for (j = i; j < sb->n && seq_leq(sb->r[j].start, e); j++) {
		uint32_t os = seq_max(s, sb->r[j].start), oe = seq_min(e, sb->r[j].end);

		if (seq_lt(os, oe))
			covered += oe - os;
	}
	if (j > i) {
		s = seq_min(s, sb->r[i].start);
		e = seq_max(e, sb->r[j - 1].end);
	} else if (sb->n == TCP_SB_MAX) {
		/* full and [s, e) needs a slot of its own: forget the highest
		 * range (see TCP_SB_MAX) -- which is the new one if it is above
		 * them all */
		sb->dropped++;
		if (i == sb->n)
			return 0;
		sb->n--;
	}
	/* ranges i..j-1 become one, at i */
	memmove(&sb->r[i + 1], &sb->r[j], (sb->n - j) * sizeof(sb->r[0]));
	sb->n = (uint8_t)(sb->n - (j - i) + 1);
	sb->r[i].start = s;
	sb->r[i].end = e;
	return len - covered;
}

/* RFC 2883 4 (and 4.1.x examples): only the first block can be a D-SACK;
 * it is one when it reports data below the cumulative ACK, or data inside
 * the second block (a duplicate above the cumulative ACK). */
static int is_dsack(const struct tcp_sack_block *blk, unsigned int n, uint32_t snd_una)
{
	if (seq_lt(blk[0].start, snd_una))
		return 1;
	return n > 1 && seq_geq(blk[0].start, blk[1].start) && seq_leq(blk[0].end, blk[1].end);
}

uint32_t tcp_sb_update(struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max,
		       const struct tcp_sack_block *blk, unsigned int n)
{
	uint32_t newly = 0;

	trim(sb, snd_una);
	/* the cumulative ACK repaired everything below it */
	if (seq_lt(sb->high_rxt, snd_una))
		sb->high_rxt = snd_una;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t s = blk[i].start, e = blk[i].end;

		if (i == 0 && is_dsack(blk, n, snd_una)) {
			sb->dsack++;
			continue;
		}
		/* seq_lt(s, e) also refuses blocks of 2^31 or more; a block
		 * ending beyond SND.MAX SACKs what was never sent (RFC 2018 has
		 * no such thing: a broken or lying receiver) */
		if (!seq_lt(s, e) || seq_gt(e, snd_max) || seq_leq(e, snd_una)) {
			sb->invalid++;
			continue;
		}
		if (seq_lt(s, snd_una))
			s = snd_una;
		newly += add(sb, s, e);
	}
	return newly;
}

int tcp_sb_is_sacked(const struct tcp_sb *sb, uint32_t seq)
{
	for (unsigned int i = 0; i < sb->n; i++) {
		if (seq_lt(seq, sb->r[i].start))
			return 0; /* ascending: nothing further holds it */
		if (seq_lt(seq, sb->r[i].end))
			return 1;
	}
	return 0;
}

uint32_t tcp_sb_sacked_above(const struct tcp_sb *sb, uint32_t seq, uint32_t *runs)
{
	uint32_t bytes = 0, nr = 0;

	for (unsigned int i = 0; i < sb->n; i++) {
		/* octets strictly greater than seq */
		uint32_t s = seq_max(sb->r[i].start, seq + 1);

		if (seq_lt(s, sb->r[i].end)) {
			bytes += sb->r[i].end - s;
			nr++;
		}
	}
	if (runs != NULL)
		*runs = nr;
	return bytes;
}

uint32_t tcp_sb_high_sacked(const struct tcp_sb *sb, uint32_t snd_una)
{
	return sb->n ? sb->r[sb->n - 1].end : snd_una;
}

int tcp_sb_next_hole(const struct tcp_sb *sb, uint32_t from, uint32_t snd_max,
		     struct tcp_sack_block *hole)
{
	uint32_t s = from;

	for (unsigned int i = 0; i < sb->n; i++) {
		if (seq_leq(sb->r[i].end, s))
			continue;
		if (seq_lt(s, sb->r[i].start)) {
			hole->start = s;
			hole->end = seq_min(sb->r[i].start, snd_max);
			return seq_lt(s, hole->end) ? 0 : -ENODATA;
		}
		s = sb->r[i].end; /* from is inside range i: skip it */
	}
	if (!seq_lt(s, snd_max))
		return -ENODATA;
	hole->start = s;
	hole->end = snd_max;
	return 0;
}

static int lost_rule(uint32_t bytes, uint32_t runs, uint32_t smss)
{
	return runs >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1) * smss;
}

int tcp_sb_is_lost(const struct tcp_sb *sb, uint32_t seq, uint32_t smss)
{
	uint32_t runs, bytes = tcp_sb_sacked_above(sb, seq, &runs);

	return lost_rule(bytes, runs, smss);
}

/* Walk the holes between snd_una and snd_max: hole h lies just below range
 * h (h < n) or above the last range (h == n, nothing SACKed above it, so
 * never lost).  above_bytes[h] is the SACKed data above hole h. */
struct hole_walk {
	uint32_t above_bytes[TCP_SB_MAX + 1];
};

static void suffix_bytes(const struct tcp_sb *sb, struct hole_walk *w)
{
	w->above_bytes[sb->n] = 0;
	for (unsigned int i = sb->n; i-- > 0;)
		w->above_bytes[i] = w->above_bytes[i + 1] + (sb->r[i].end - sb->r[i].start);
}

static int hole_lost(const struct tcp_sb *sb, const struct hole_walk *w, unsigned int h,
		     uint32_t smss)
{
	return lost_rule(w->above_bytes[h], sb->n - h, smss);
}

uint32_t tcp_sb_pipe(const struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max, uint32_t smss)
{
	struct hole_walk w;
	uint32_t pipe = 0, lo = snd_una;

	suffix_bytes(sb, &w);
	for (unsigned int h = 0; h <= sb->n; h++) {
		uint32_t hi = h < sb->n ? sb->r[h].start : snd_max;

		hi = seq_min(hi, snd_max);
		if (seq_lt(lo, hi)) {
			/* (a) an unSACKed octet not deemed lost is in flight */
			if (!hole_lost(sb, &w, h, smss))
				pipe += hi - lo;
			/* (b) its retransmission is in flight: every unSACKed octet
			 * below HighRxt was retransmitted, because NextSeg rules (1)
			 * and (3) always take the lowest candidate above HighRxt and
			 * IsLost never holds for a hole above one where it fails */
			if (seq_lt(lo, sb->high_rxt))
				pipe += seq_min(hi, sb->high_rxt) - lo;
		}
		if (h < sb->n)
			lo = seq_max(lo, sb->r[h].end);
	}
	return pipe;
}

int tcp_sb_next_seg(const struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max,
		    uint32_t smss, uint32_t new_avail, struct tcp_sb_seg *seg)
{
	struct hole_walk w;
	uint32_t lo = snd_una, s3 = 0, s3_end = 0;
	int have_s3 = 0;

	if (smss == 0)
		return -EINVAL;
	suffix_bytes(sb, &w);
	/* rules (1) and (3) look only below the highest SACKed octet: holes
	 * 0..n-1, each just below a SACKed range */
	for (unsigned int h = 0; h < sb->n; h++) {
		uint32_t hi = seq_min(sb->r[h].start, snd_max);
		uint32_t s = seq_max(lo, sb->high_rxt);

		lo = seq_max(lo, sb->r[h].end);
		if (!seq_lt(s, hi))
			continue; /* empty, or wholly retransmitted already */
		if (hole_lost(sb, &w, h, smss)) {
			seg->seq = s;
			seg->len = hi - s < smss ? hi - s : smss;
			seg->rule = 1;
			return 1;
		}
		/* the lowest candidate failed IsLost: every hole above has less
		 * SACKed above it, so fails too; remember it for rule (3) */
		s3 = s;
		s3_end = hi;
		have_s3 = 1;
		break;
	}
	if (new_avail > 0) {
		seg->seq = snd_max;
		seg->len = new_avail < smss ? new_avail : smss;
		seg->rule = 2;
		return 2;
	}
	if (have_s3) {
		seg->seq = s3;
		seg->len = s3_end - s3 < smss ? s3_end - s3 : smss;
		seg->rule = 3;
		return 3;
	}
	/* (4) rescue: one per recovery, while HighACK > RescueRxt is false */
	if (!(sb->flags & TCP_SB_F_RESCUE) || seq_gt(snd_una, sb->rescue_rxt)) {
		uint32_t hi = snd_max;

		/* the highest unSACKed octet: below snd_max, under any range */
		for (unsigned int i = sb->n; i-- > 0;) {
			if (seq_lt(sb->r[i].end, hi))
				break;
			hi = seq_min(hi, sb->r[i].start);
		}
		if (seq_lt(snd_una, hi)) {
			uint32_t s = hi - snd_una > smss ? hi - smss : snd_una;

			/* stay within the hole: do not resend SACKed data */
			for (unsigned int i = 0; i < sb->n; i++)
				if (seq_lt(sb->r[i].start, hi) && seq_gt(sb->r[i].end, s))
					s = sb->r[i].end;
			seg->seq = s;
			seg->len = hi - s;
			seg->rule = 4;
			return 4;
		}
	}
	return -ENODATA;
}

void tcp_sb_sent(struct tcp_sb *sb, const struct tcp_sb_seg *seg)
{
	switch (seg->rule) {
	case 1:
	case 3:
		sb->high_rxt = seq_max(sb->high_rxt, seg->seq + seg->len);
		break;
	case 4:
		/* RFC 6675 4 NextSeg (4): RescueRxt = RecoveryPoint; HighRxt
		 * MUST NOT be updated */
		sb->rescue_rxt = sb->recovery_point;
		sb->flags |= TCP_SB_F_RESCUE;
		break;
	default:
		break;
	}
}

int tcp_sb_loss_detected(const struct tcp_sb *sb, uint32_t snd_una, uint32_t dupacks,
			 uint32_t smss)
{
	if (sb->flags & TCP_SB_F_RECOVERY)
		return 0;
	if (seq_lt(snd_una, sb->recovery_point))
		return 0;
	return dupacks >= TCP_DUPTHRESH || tcp_sb_is_lost(sb, snd_una, smss);
}

void tcp_sb_enter_recovery(struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max)
{
	sb->recovery_point = snd_max;
	sb->high_rxt = snd_una;
	sb->flags = (uint8_t)((sb->flags | TCP_SB_F_RECOVERY) & ~TCP_SB_F_RESCUE);
}

enum tcp_sb_recovery tcp_sb_recovery_ack(struct tcp_sb *sb, uint32_t snd_una)
{
	if (!(sb->flags & TCP_SB_F_RECOVERY))
		return TCP_SB_RECOV_NONE;
	if (seq_lt(snd_una, sb->recovery_point))
		return TCP_SB_RECOV_PARTIAL;
	sb->flags &= (uint8_t)~TCP_SB_F_RECOVERY;
	return TCP_SB_RECOV_DONE;
}

void tcp_sb_on_rto(struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max)
{
	sb->recovery_point = snd_max;
	sb->high_rxt = snd_una;
	sb->flags &= (uint8_t)~(TCP_SB_F_RECOVERY | TCP_SB_F_RESCUE);
}
