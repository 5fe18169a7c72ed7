/*
 * Sender-side SACK scoreboard and the RFC 6675 loss-recovery helpers
 * (IsLost, SetPipe, NextSeg), with a bound on the ranges kept.
 */
#ifndef SLUICE_TCP_SACK_H
#define SLUICE_TCP_SACK_H

#include <stdint.h>

#include "tcp_opt.h"

#define TCP_SB_MAX 16
#define TCP_DUPTHRESH 3

struct tcp_scoreboard {
	uint32_t n;
	struct tcp_sack_block b[TCP_SB_MAX]; /* SACKed, above SND.UNA, sorted, disjoint */
	uint32_t high_rxt;   /* RFC 6675 HighRxt */
	uint64_t dsack;      /* D-SACK blocks seen (RFC 2883), ignored otherwise */
	uint64_t invalid;    /* blocks outside (SND.UNA, SND.NXT] */
	uint64_t overflow;   /* ranges forgotten because the board was full */
};

void tcp_sb_reset(struct tcp_scoreboard *sb, uint32_t snd_una);
/* Take the blocks of one ACK whose cumulative ACK moved SND.UNA to snd_una. */
void tcp_sb_update(struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_nxt,
		   const struct tcp_sack_block *blk, unsigned int n);
int tcp_sb_is_sacked(const struct tcp_scoreboard *sb, uint32_t seq);
uint32_t tcp_sb_sacked_above(const struct tcp_scoreboard *sb, uint32_t seq, uint32_t *runs);
/* RFC 6675 IsLost(seq): DupThresh discontiguous SACKed runs, or more than
 * (DupThresh - 1) * SMSS bytes SACKed, above seq. */
int tcp_sb_is_lost(const struct tcp_scoreboard *sb, uint32_t seq, uint32_t mss);
/* RFC 6675 SetPipe, segment by segment of `mss` bytes. */
uint32_t tcp_sb_pipe(const struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_nxt,
		     uint32_t mss);
/* RFC 6675 NextSeg rule 1: the first lost, unSACKed segment above HighRxt.
 * 0 and *seq, or -1 when there is none (rule 2: send new data). */
int tcp_sb_next_lost(const struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_nxt,
		     uint32_t mss, uint32_t *seq);

#endif
