/*
 * The symmetric Toeplitz hash a NIC's RSS computes, in software, and the
 * RETA-like mapping from hash to worker.  Pure: the lookup table is filled
 * once at start-up (toeplitz_init, before the workers run) and only read
 * after, so workers use it without locks.
 *
 * Why Toeplitz: a port with RSS (port.c) is given this key and a RETA that
 * sends hash h to queue toeplitz_reta_owner(h, n); worker q polls queue q.
 * Computing the same function in software (flow/dispatch.h) makes the NIC's
 * queue choice and the flow's owner agree, so hand-offs become the
 * exception.  Why this key: 0x6d,0x5a repeated has period 16 bits, and the
 * Toeplitz window of input bit i is key bits i..i+31, so the window of a bit
 * 32 positions later (src addr <-> dst addr) or 16 later (src port <-> dst
 * port) is the same: hash(s,d,sp,dp) == hash(d,s,dp,sp) (Woo and Park,
 * "Scalable TCP Session Monitoring with Symmetric Receive-side Scaling").
 * The price: the hash depends on the 16-bit XOR fold of the tuple only.
 * That fold's 16x16 bit matrix is circulant with an odd number of ones, so
 * it has full rank: all 65536 folds hash apart, and the low bits a RETA
 * uses take every value.
 *
 * Toeplitz is linear over GF(2): the hash of an input is the XOR of the hashes
 * of its bytes in place, so a 12x256 table (one row per input byte) turns
 * 96 shift-and-XOR steps into 12 loads.
 */
#ifndef SLUICE_FLOW_TOEPLITZ_H
#define SLUICE_FLOW_TOEPLITZ_H

#include <stddef.h>
#include <stdint.h>

#define TOEPLITZ_KEY_LEN 40 /* what most NICs take; IPv4 needs the first 16 bytes */
#define TOEPLITZ_V4_LEN 12  /* src addr, dst addr, src port, dst port */

/*
 * Hash slots, as in a NIC's redirection table: slot = hash & (SIZE - 1),
 * owner = slot % n.  A port whose RETA has 512 entries or more (i40e, ice,
 * X550, mlx5) reproduces this mapping exactly; a smaller one (128: ixgbe
 * 82599, virtio, ena) only for n a power of two (toeplitz_reta_fill).  And
 * 512 % n is small next to 512: no owner gets more than n/512 over its even
 * share (under 3% for up to 16 workers).
 */
#define TOEPLITZ_RETA_SIZE 512u

/* 0x6d,0x5a repeated; 4-aligned for rte_softrss(), which reads it in words */
extern const uint8_t toeplitz_sym_key[TOEPLITZ_KEY_LEN] __attribute__((aligned(4)));

/* T[pos][b]: the hash of an input whose byte pos is b and all others zero */
extern uint32_t toeplitz_tab[TOEPLITZ_V4_LEN][256];

/* Fills toeplitz_tab from toeplitz_sym_key.  Once, before any worker runs
 * (the table is then read without synchronisation).  Idempotent. */
void toeplitz_init(void);

/* The symmetric key at the length a port takes (40 on most, 52 on i40e and
 * ice): the pattern is the key, so any length >= 16 gives the same IPv4
 * hashes as the 40 bytes.  -EINVAL when shorter. */
int toeplitz_key_fill(uint8_t *key, size_t len);

/* The NIC's hash of an IPv4 TCP/UDP packet: addresses in network order (as
 * in the header), ports in host order. */
static inline uint32_t toeplitz_hash_v4(uint32_t saddr_be, uint32_t daddr_be, uint16_t sport,
					uint16_t dport)
{
	const uint8_t *s = (const uint8_t *)&saddr_be, *d = (const uint8_t *)&daddr_be;

	return toeplitz_tab[0][s[0]] ^ toeplitz_tab[1][s[1]] ^ toeplitz_tab[2][s[2]] ^
	       toeplitz_tab[3][s[3]] ^ toeplitz_tab[4][d[0]] ^ toeplitz_tab[5][d[1]] ^
	       toeplitz_tab[6][d[2]] ^ toeplitz_tab[7][d[3]] ^ toeplitz_tab[8][sport >> 8] ^
	       toeplitz_tab[9][sport & 0xffu] ^ toeplitz_tab[10][dport >> 8] ^
	       toeplitz_tab[11][dport & 0xffu];
}

/* The NIC's IPv4 hash without L4 (fragments, protocols without ports): the
 * 8 address bytes.  Equal to toeplitz_hash_v4(s, d, 0, 0), zero bytes adding
 * nothing to a linear hash. */
static inline uint32_t toeplitz_hash_v4_addr(uint32_t saddr_be, uint32_t daddr_be)
{
	const uint8_t *s = (const uint8_t *)&saddr_be, *d = (const uint8_t *)&daddr_be;

	return toeplitz_tab[0][s[0]] ^ toeplitz_tab[1][s[1]] ^ toeplitz_tab[2][s[2]] ^
	       toeplitz_tab[3][s[3]] ^ toeplitz_tab[4][d[0]] ^ toeplitz_tab[5][d[1]] ^
	       toeplitz_tab[6][d[2]] ^ toeplitz_tab[7][d[3]];
}

/* The RETA of `size` entries (a power of two) for n queues that gives each
 * hash to toeplitz_reta_owner(hash, n), or as many as it can: returns how
 * many of the TOEPLITZ_RETA_SIZE slots it gets right (all of them when
 * size >= TOEPLITZ_RETA_SIZE, or when n is a power of two <= size), or
 * -EINVAL.  Start-up only (port.c). */
int toeplitz_reta_fill(uint16_t *reta, unsigned int size, unsigned int n);

/* The worker of n that a RETA with entry i = i % n gives hash h to. */
static inline unsigned int toeplitz_reta_owner(uint32_t h, unsigned int n)
{
	return n > 1 ? (h & (TOEPLITZ_RETA_SIZE - 1)) % n : 0;
}

#endif
