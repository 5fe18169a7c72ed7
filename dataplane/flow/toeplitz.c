/*
 * The symmetric Toeplitz key and the per-byte table of its hash (toeplitz.h).
 */
#include <errno.h>

#include "flow/toeplitz.h"

#define K 0x6d, 0x5a
const uint8_t toeplitz_sym_key[TOEPLITZ_KEY_LEN] __attribute__((aligned(4))) = {
	K, K, K, K, K, K, K, K, K, K, K, K, K, K, K, K, K, K, K, K,
};
#undef K

uint32_t toeplitz_tab[TOEPLITZ_V4_LEN][256];

/* Key bits off..off+31 (bit 0 is the top bit of byte 0): what input bit
 * `off` XORs into the hash when it is set. */
static uint32_t key_window(unsigned int off)
{
	uint32_t w = 0;

	for (unsigned int i = 0; i < 32; i++) {
		unsigned int b = off + i;

		w = w << 1 | ((toeplitz_sym_key[b / 8] >> (7 - b % 8)) & 1u);
	}
	return w;
}

void toeplitz_init(void)
{
	for (unsigned int pos = 0; pos < TOEPLITZ_V4_LEN; pos++) {
		uint32_t win[8];

		/* bit 7 of a byte is the first on the wire, the lowest offset */
		for (unsigned int bit = 0; bit < 8; bit++)
			win[bit] = key_window(pos * 8 + 7 - bit);
		for (unsigned int v = 0; v < 256; v++) {
			uint32_t h = 0;

			for (unsigned int bit = 0; bit < 8; bit++)
				if (v & (1u << bit))
					h ^= win[bit];
			toeplitz_tab[pos][v] = h;
		}
	}
}

int toeplitz_key_fill(uint8_t *key, size_t len)
{
	/* the 96 bits of an IPv4 4-tuple reach key bit 95 + 31: 16 bytes;
	 * the bytes after them only meet longer (IPv6) inputs */
	if (len < 16)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		key[i] = toeplitz_sym_key[i % 2];
	return 0;
}

/*
 * The NIC sends hash h to entry h & (S-1) of its RETA of S entries; the
 * software owner is (h & (R-1)) % n, R = TOEPLITZ_RETA_SIZE, both powers of
 * two.
 *  - S >= R: entry i covers the hashes with h & (S-1) == i, all of which
 *    have h & (R-1) == i & (R-1) (R divides S), so entry (i & (R-1)) % n is
 *    exactly the software owner, for every n.
 *  - S < R: entry i covers the R/S software slots i + kS; their owners
 *    (i + kS) % n are one for every k only when n divides S, i.e. n is a
 *    power of two no larger than S.  Otherwise no RETA of S entries gives
 *    the mapping: entry i takes the owner of most of its slots (the first
 *    such), and software dispatch hands off the packets of the others.
 */
int toeplitz_reta_fill(uint16_t *reta, unsigned int size, unsigned int n)
{
	unsigned int agree = 0;

	if (size == 0 || (size & (size - 1)) || n == 0 || n > UINT16_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < size; i++) {
		unsigned int best = 0, best_count = 0;

		if (size >= TOEPLITZ_RETA_SIZE) {
			reta[i] = (uint16_t)toeplitz_reta_owner(i, n);
			/* each slot is covered size / R times; count it once */
			agree += i < TOEPLITZ_RETA_SIZE;
			continue;
		}
		/* a majority over at most R slots, at start-up: quadratic is fine */
		for (unsigned int j = i; j < TOEPLITZ_RETA_SIZE; j += size) {
			unsigned int o = toeplitz_reta_owner(j, n), count = 0;

			for (unsigned int k = i; k < TOEPLITZ_RETA_SIZE; k += size)
				count += toeplitz_reta_owner(k, n) == o;
			if (count > best_count) {
				best = o;
				best_count = count;
			}
		}
		reta[i] = (uint16_t)best;
		agree += best_count;
	}
	return (int)agree;
}
