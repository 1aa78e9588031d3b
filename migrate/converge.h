/* SPDX-License-Identifier: MIT */
/*
 * When to stop pre-copy and switch over: a pure function of what the last
 * pass measured, so the policy is unit-tested and written down in one place.
 */
#ifndef KVMTRACK_CONVERGE_H
#define KVMTRACK_CONVERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct converge_input {
	uint64_t remaining_pages; /* dirty now, still to send */
	uint64_t prev_remaining_pages; /* at the previous decision; 0: none */
	double bandwidth; /* bytes/s measured over the last pass */
	double pass_s; /* how long the last pass took */
	/* The pages the guest may rewrite, for the throttle's model
	 * (converge.c): those the first pass found written, or more if a
	 * pass found more dirty */
	uint64_t working_set_pages;
	uint64_t downtime_limit_ms;
	/* Downtime spent whatever remains: the stopped source's full memory
	 * digest, about written memory over the memory bandwidth. */
	double fixed_downtime_ms;
	unsigned int pass; /* passes done so far, the first included */
	unsigned int max_passes;
	bool auto_converge;
	unsigned int throttle_percent; /* current */
};

enum converge_action { CONVERGE_ITERATE, CONVERGE_SWITCH, CONVERGE_THROTTLE };

struct converge_decision {
	enum converge_action action;
	double expected_downtime_ms;
	unsigned int throttle_percent; /* new value for CONVERGE_THROTTLE */
	char reason[96];
};

void converge_decide(const struct converge_input *in,
		     struct converge_decision *out);

#endif
