/* SACK scoreboard and RFC 6675 helpers (see tcp_sack.h). */
#include <string.h>

#include "tcp_sack.h"
#include "tcp_seq.h"

void tcp_sb_reset(struct tcp_scoreboard *sb, uint32_t snd_una)
{
	sb->n = 0;
	sb->high_rxt = snd_una;
}

/* Drop everything at or below una. */
static void trim(struct tcp_scoreboard *sb, uint32_t una)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < sb->n; i++) {
		struct tcp_sack_block b = sb->b[i];

		if (seq_leq(b.end, una))
			continue;
		if (seq_lt(b.start, una))
			b.start = una;
		sb->b[k++] = b;
	}
	sb->n = k;
}

/* Insert [s, e) keeping the list sorted and merged. */
static void add(struct tcp_scoreboard *sb, uint32_t s, uint32_t e)
{
	uint32_t i = 0, j;

	while (i < sb->n && seq_lt(sb->b[i].end, s))
		i++;
	/* merge every block overlapping or touching [s, e) */
	for (j = i; j < sb->n && seq_leq(sb->b[j].start, e); j++) {
		s = seq_min(s, sb->b[j].start);
		e = seq_max(e, sb->b[j].end);
	}
	if (j == i && sb->n == TCP_SB_MAX) {
		/* full: keep the lowest ranges, they matter first for recovery */
		sb->overflow++;
		if (i == TCP_SB_MAX)
			return;
		sb->n--;
	}
	memmove(&sb->b[i + 1], &sb->b[j], (sb->n - j) * sizeof(sb->b[0]));
	sb->n -= j - i;
	sb->n++;
	sb->b[i] = (struct tcp_sack_block){ s, e };
}

void tcp_sb_update(struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_nxt,
		   const struct tcp_sack_block *blk, unsigned int n)
{
	trim(sb, snd_una);
	if (seq_lt(sb->high_rxt, snd_una))
		sb->high_rxt = snd_una;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t s = blk[i].start, e = blk[i].end;

		/* RFC 2883: a first block at or below the cumulative ACK, or
		 * inside the second, reports a duplicate: note it, learn nothing */
		if (seq_leq(e, snd_una) ||
		    (i == 0 && n > 1 && seq_geq(s, blk[1].start) && seq_leq(e, blk[1].end))) {
			sb->dsack++;
			continue;
		}
		if (!seq_lt(s, e) || seq_lt(s, snd_una) || seq_gt(e, snd_nxt)) {
			sb->invalid++;
			continue;
		}
		add(sb, s, e);
	}
}

int tcp_sb_is_sacked(const struct tcp_scoreboard *sb, uint32_t seq)
{
	for (uint32_t i = 0; i < sb->n; i++)
		if (seq_in(seq, sb->b[i].start, sb->b[i].end))
			return 1;
	return 0;
}

uint32_t tcp_sb_sacked_above(const struct tcp_scoreboard *sb, uint32_t seq, uint32_t *runs)
{
	uint32_t bytes = 0;

	*runs = 0;
	for (uint32_t i = 0; i < sb->n; i++) {
		const struct tcp_sack_block *b = &sb->b[i];

		if (seq_leq(b->end, seq))
			continue;
		bytes += b->end - seq_max(b->start, seq + 1);
		(*runs)++;
	}
	return bytes;
}

int tcp_sb_is_lost(const struct tcp_scoreboard *sb, uint32_t seq, uint32_t mss)
{
	uint32_t runs, bytes = tcp_sb_sacked_above(sb, seq, &runs);

	return runs >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1) * mss;
}

uint32_t tcp_sb_pipe(const struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_nxt,
		     uint32_t mss)
{
	uint32_t pipe = 0;

	for (uint32_t s = snd_una; seq_lt(s, snd_nxt); s += mss) {
		uint32_t len = snd_nxt - s < mss ? snd_nxt - s : mss;

		if (tcp_sb_is_sacked(sb, s))
			continue;
		/* (a) still in the network unless deemed lost */
		if (!tcp_sb_is_lost(sb, s, mss))
			pipe += len;
		/* (b) its retransmission is in the network */
		if (seq_lt(s, sb->high_rxt))
			pipe += len;
	}
	return pipe;
}

int tcp_sb_next_lost(const struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_nxt,
		     uint32_t mss, uint32_t *seq)
{
	uint32_t s = seq_max(snd_una, sb->high_rxt);

	for (; seq_lt(s, snd_nxt); s += mss) {
		if (tcp_sb_is_sacked(sb, s))
			continue;
		/* rule 1: lost, unSACKed, above HighRxt (and below the highest
		 * SACKed byte, which IsLost implies) */
		if (tcp_sb_is_lost(sb, s, mss)) {
			*seq = s;
			return 0;
		}
		return -1; /* the first hole is not yet lost: nothing to repair */
	}
	return -1;
}
