/*
 * Neighbour (ARP) entry state machine: pure logic, time in milliseconds.
 * The table around it (dataplane/l2/neigh.c) turns the returned actions into
 * ARP requests, pending-queue flushes and deletions.
 */
#ifndef SLUICE_NEIGH_SM_H
#define SLUICE_NEIGH_SM_H

#include <stdint.h>
#include <sluice/shm.h>

struct neigh_params {
	uint64_t reachable_ms; /* REACHABLE lasts this long without confirmation */
	uint64_t retrans_ms;   /* between requests */
	uint32_t probes;       /* requests before giving up */
};

struct neigh_sm {
	uint8_t state;         /* enum sl_neigh_state; 0 = fresh entry */
	uint8_t probes;        /* requests sent in this round */
	uint64_t deadline;     /* next TIMER, 0 = none */
	uint64_t confirmed;    /* last time the neighbour was heard from */
};

enum neigh_event {
	NEIGH_EV_RESOLVE,  /* a packet needs this neighbour */
	NEIGH_EV_CONFIRM,  /* an ARP from the neighbour gave its MAC */
	NEIGH_EV_TIMER,    /* now >= deadline */
	NEIGH_EV_STATIC,   /* configured as permanent */
};

enum neigh_action {
	NEIGH_ACT_NONE       = 0,
	NEIGH_ACT_SEND_BCAST = 1 << 0, /* broadcast ARP request */
	NEIGH_ACT_SEND_UCAST = 1 << 1, /* unicast ARP request to the known MAC */
	NEIGH_ACT_FLUSH      = 1 << 2, /* MAC known: send queued packets (and this one) */
	NEIGH_ACT_QUEUE      = 1 << 3, /* keep this packet until resolution */
	NEIGH_ACT_DROP       = 1 << 4, /* drop this packet and every queued one */
	NEIGH_ACT_DELETE     = 1 << 5, /* remove the entry */
	NEIGH_ACT_USE_MAC    = 1 << 6, /* the stored MAC is valid for forwarding */
};

/* Apply one event; returns a mask of enum neigh_action. */
unsigned int neigh_sm_event(struct neigh_sm *sm, enum neigh_event ev, uint64_t now,
			    const struct neigh_params *p);

const char *neigh_state_str(unsigned int state);

#endif
