/*
 * SACK, both ends of it.  Pure logic: no DPDK, no allocation.
 *
 * Receiver side (RFC 2018 4, RFC 2883): choose the SACK blocks of an
 * outgoing ACK from the out-of-order queue's blocks (tcp_reass_blocks()),
 * remembering what the previous ACK reported.
 *
 * Sender side (RFC 6675): a bounded scoreboard of SACKed ranges above
 * SND.UNA and the recovery variables HighRxt, RescueRxt and RecoveryPoint,
 * with IsLost(), SetPipe() and NextSeg().  The same recovery variables serve
 * RFC 6582 NewReno without SACK (`recover` is RecoveryPoint).
 *
 * Sequence conventions: every range is [start, end) in sequence space.  The
 * RFC's inclusive "highest octet" variables are kept as exclusive ends:
 *   high_rxt       = HighRxt + 1      (nothing retransmitted: SND.UNA)
 *   recovery_point = RecoveryPoint + 1 = SND.MAX when recovery began
 * so "S > HighRxt" is seq_geq(S, high_rxt) and "cumulative ACK covers
 * RecoveryPoint" is seq_geq(SND.UNA, recovery_point).
 *
 * How the stack drives it, per ACK (SACK permitted):
 *   newly = tcp_sb_update(sb, snd_una, snd_max, opts.sack, opts.n_sack);
 *   if the ACK advanced SND.UNA: dupacks = 0 (RFC 6675 5), and
 *       switch (tcp_sb_recovery_ack(sb, snd_una)): PARTIAL -> cc partial ACK,
 *       DONE -> cc exit_recovery;
 *   else if newly (RFC 6675 2: an ACK carrying SACK information for data
 *       not SACKed before counts as a duplicate):
 *       dupacks++;
 *   if (tcp_sb_loss_detected(sb, snd_una, dupacks, smss)) {
 *       cc enter_recovery(FlightSize); tcp_sb_enter_recovery(sb, snd_una, snd_max);
 *   }
 *   in recovery: while (cwnd - tcp_sb_pipe() >= SMSS and
 *                       tcp_sb_next_seg(...) > 0) { send it; tcp_sb_sent(sb, &seg); }
 */
#ifndef SLUICE_TCP_SACK_H
#define SLUICE_TCP_SACK_H

#include <stdint.h>

#include "tcp_opt.h" /* struct tcp_sack_block, TCP_SACK_MAX */

/* ------------------------------------------------------------------ */
/* Receiver side: RFC 2018 4                                           */
/* ------------------------------------------------------------------ */

/* What the last ACK reported, most recent first; D-SACK blocks are not kept
 * (RFC 2883 4: a duplicate is reported once). */
struct tcp_sack_rcv {
	struct tcp_sack_block last[TCP_SACK_MAX];
	uint8_t n;
};

void tcp_sack_rcv_init(struct tcp_sack_rcv *r);

/* Fill `out` (room for `max` blocks; more than TCP_SACK_MAX is clamped,
 * 3 fit beside timestamps) with the blocks of one outgoing ACK:
 *   1. `dsack`, if not NULL: a duplicate range received (RFC 2883 4), first;
 *   2. the block of `ooo` holding `recent`, the segment that triggered this
 *      ACK (RFC 2018 4: MUST be first of the SACK blocks); NULL if none;
 *   3. the blocks reported last time, in that order, each replaced by the
 *      queue block now holding it, none twice (RFC 2018 4: "repeating the
 *      most recently reported SACK blocks ... that are not subsets of a
 *      SACK block already included");
 *   4. room left: the other queue blocks, lowest first (the sender repairs
 *      the lowest holes first).
 * `ooo` is the out-of-order queue's disjoint blocks in any order; blocks at
 * or below `rcv_nxt` are ignored.  Remembers the result (without the
 * D-SACK) for the next call.  Returns the number of blocks written. */
unsigned int tcp_sack_rcv_build(struct tcp_sack_rcv *r, uint32_t rcv_nxt,
				const struct tcp_sack_block *ooo, unsigned int n_ooo,
				const struct tcp_sack_block *recent,
				const struct tcp_sack_block *dsack,
				struct tcp_sack_block *out, unsigned int max);

/* ------------------------------------------------------------------ */
/* Sender side: RFC 6675 scoreboard                                    */
/* ------------------------------------------------------------------ */

/* Ranges kept.  When a new disjoint range arrives on a full board the
 * highest range is forgotten (counted in `dropped`): forgetting a SACK is
 * always safe -- the data looks unSACKed, so at worst it is retransmitted
 * needlessly and pipe is over- rather than under-estimated -- and the
 * lowest ranges are the ones loss repair needs first.  Merging two ranges
 * instead would claim the hole between them was received: never. */
#define TCP_SB_MAX 16
#define TCP_DUPTHRESH 3 /* RFC 6675 2 / RFC 5681 3.2 */

enum {
	TCP_SB_F_RECOVERY = 1 << 0, /* in SACK/NewReno loss recovery */
	TCP_SB_F_RESCUE = 1 << 1,   /* rescue_rxt is defined (RFC 6675 4 NextSeg (4)) */
};

struct tcp_sb {
	struct tcp_sack_block r[TCP_SB_MAX]; /* SACKed, above SND.UNA, ascending,
						disjoint and never touching */
	uint8_t n;
	uint8_t flags;           /* TCP_SB_F_* */
	uint32_t high_rxt;       /* HighRxt + 1 */
	uint32_t rescue_rxt;     /* RescueRxt + 1, when TCP_SB_F_RESCUE */
	uint32_t recovery_point; /* RecoveryPoint + 1 (RFC 6582 recover + 1) */
	/* what was refused, for `show tcp` */
	uint32_t dsack;          /* D-SACK blocks (RFC 2883 4), otherwise ignored */
	uint32_t invalid;        /* empty, reversed, beyond SND.MAX or below SND.UNA */
	uint32_t dropped;        /* ranges forgotten because the board was full */
};

/* Empty board, no recovery; snd_una is the initial SND.UNA. */
void tcp_sb_init(struct tcp_sb *sb, uint32_t snd_una);

/* Forget every SACK (RFC 2018 8: after a timeout the sender may clear the
 * SACKed marks in case the receiver reneged).  Recovery state is kept. */
void tcp_sb_clear(struct tcp_sb *sb);

/* RFC 6675 4 Update(): take one ACK after SND.UNA has moved to `snd_una`
 * (ranges at or below it are trimmed away) and its SACK blocks.  The first
 * block is a D-SACK (RFC 2883 4) when it starts below snd_una or lies
 * within the second block: counted, otherwise ignored.  Empty or reversed
 * blocks, and blocks ending beyond snd_max (SND.MAX, the highest sequence
 * sent + 1) or at or below snd_una, are counted in `invalid` and ignored; a
 * block straddling snd_una keeps its part above.  Returns the bytes newly
 * SACKed (not SACKed before), so the caller can tell an RFC 6675 duplicate
 * ACK. */
uint32_t tcp_sb_update(struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max,
		       const struct tcp_sack_block *blk, unsigned int n);

int tcp_sb_is_sacked(const struct tcp_sb *sb, uint32_t seq);

/* Bytes SACKed with sequence numbers greater than `seq`, and in how many
 * discontiguous runs (runs may be NULL). */
uint32_t tcp_sb_sacked_above(const struct tcp_sb *sb, uint32_t seq, uint32_t *runs);

/* The highest SACKed sequence + 1, or snd_una when nothing is SACKed. */
uint32_t tcp_sb_high_sacked(const struct tcp_sb *sb, uint32_t snd_una);

/* The first unSACKed range at or above `from`, below snd_max: the go-back-N
 * after a timeout (RFC 6675 5.1) and RFC 6582's "first unacknowledged
 * segment" both skip what the receiver holds.  0 and *hole, or -ENODATA. */
int tcp_sb_next_hole(const struct tcp_sb *sb, uint32_t from, uint32_t snd_max,
		     struct tcp_sack_block *hole);

/* RFC 6675 4 IsLost(seq): DupThresh discontiguous SACKed runs, or more
 * than (DupThresh - 1) * SMSS bytes SACKed, above seq.  With byte ranges
 * the first test counts runs, not segments: it can only under-count (two
 * adjacent SACKed segments are one run), so the rule stays conservative,
 * and the byte test catches the full-sized case. */
int tcp_sb_is_lost(const struct tcp_sb *sb, uint32_t seq, uint32_t smss);

/* RFC 6675 4 SetPipe(): the octets between snd_una and snd_max thought to
 * be in the network: each unSACKed octet not deemed lost counts once, and
 * once more if it was retransmitted (below HighRxt).  IsLost() has the same
 * answer for every octet of one hole (the SACKed data above them is the
 * same), so this runs per hole, O(ranges), not per octet or segment. */
uint32_t tcp_sb_pipe(const struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max, uint32_t smss);

/* One segment chosen by NextSeg(). */
struct tcp_sb_seg {
	uint32_t seq, len;
	uint8_t rule; /* the NextSeg rule that chose it, 1..4 */
};

/* RFC 6675 4 NextSeg():
 *   (1) the lowest unSACKed octet at or above HighRxt, below the highest
 *       SACKed octet, that IsLost(): up to SMSS bytes of its hole;
 *   (2) else, when `new_avail` bytes of unsent data may go (the caller
 *       applies the peer's window): up to SMSS of them at snd_max;
 *   (3) else the lowest unSACKed octet at or above HighRxt below the
 *       highest SACKed octet, lost or not;
 *   (4) else, once per recovery, a rescue retransmission: the SMSS (at
 *       most) ending at the highest unSACKed octet below snd_max.
 * Returns the rule (1..4) with *seg filled, or -ENODATA ((5): nothing to
 * send).  Call tcp_sb_sent() once the segment is on its way. */
int tcp_sb_next_seg(const struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max,
		    uint32_t smss, uint32_t new_avail, struct tcp_sb_seg *seg);

/* RFC 6675 5 (C.3): a retransmission by rule (1) or (3) raises HighRxt to
 * its end; rule (4) sets RescueRxt = RecoveryPoint and leaves HighRxt;
 * new data (rule (2)) is the caller's SND.MAX. */
void tcp_sb_sent(struct tcp_sb *sb, const struct tcp_sb_seg *seg);

/* RFC 6675 5 steps (2) and (3): loss recovery starts when DupAcks reached
 * DupThresh or IsLost(HighACK + 1), i.e. IsLost(snd_una) -- and only when
 * not in recovery already and the cumulative ACK covers the recovery point
 * of the last episode or timeout (RFC 6582 3.2 step 2; RFC 6675 5.1). */
int tcp_sb_loss_detected(const struct tcp_sb *sb, uint32_t snd_una, uint32_t dupacks,
			 uint32_t smss);

/* RFC 6675 5 (4.1): RecoveryPoint = HighData; HighRxt = HighACK; no rescue
 * yet.  Also the RFC 6582 3.2 step 2 `recover` for NewReno without SACK. */
void tcp_sb_enter_recovery(struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max);

enum tcp_sb_recovery {
	TCP_SB_RECOV_NONE = 0, /* not in recovery */
	TCP_SB_RECOV_PARTIAL,  /* in recovery, RecoveryPoint not yet covered */
	TCP_SB_RECOV_DONE,     /* this ACK covered it: recovery is over */
};

/* After SND.UNA advanced to snd_una: RFC 6675 5 "a cumulative ACK at or
 * above RecoveryPoint ends loss recovery"; RFC 6582 3.2 steps 3 (full ACK)
 * and 5 (partial ACK). */
enum tcp_sb_recovery tcp_sb_recovery_ack(struct tcp_sb *sb, uint32_t snd_una);

/* RFC 6675 5.1: a retransmission timeout ends recovery, RecoveryPoint =
 * HighData, and no new recovery starts before the cumulative ACK covers
 * it (the same holds for NewReno's `recover`, RFC 6582 3.2 step 2).  SACK
 * information is kept and Update() goes on, so the go-back-N that follows
 * can skip SACKed data; call tcp_sb_clear() to forget it instead. */
void tcp_sb_on_rto(struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max);

static inline int tcp_sb_in_recovery(const struct tcp_sb *sb)
{
	return (sb->flags & TCP_SB_F_RECOVERY) != 0;
}

#endif
