// SPDX-License-Identifier: MIT
/*
 * The switch-over policy. QEMU switches as soon as the remaining pages fit
 * in the downtime limit; kvmtrack keeps iterating while the last pass
 * (observed, not predicted) halved what remains, because each such pass
 * costs no downtime and the final stop-and-copy gets shorter. The limit is a bound,
 * not a target. Explicit ends: nothing left or under 1 ms of work, the
 * limit met with no more progress, or the pass limit (switch anyway, and
 * say so). Auto-converge throttles the vCPUs by just enough that the guest
 * dirties at most half of what the link carries.
 */
#include "migrate/converge.h"

#include <stdio.h>

#define PAGE_BYTES 4096.0

static unsigned int needed_throttle(const struct converge_input *in)
{
	double link_pages = in->bandwidth / PAGE_BYTES;
	double keep = in->dirty_rate > 0 ? 0.5 * link_pages / in->dirty_rate
					 : 1.0;
	double pct = (1.0 - keep) * 100.0;
	unsigned int want = pct < 0 ? 0 : (unsigned int)(pct + 0.5);

	/* Always step up by at least 10 points so a misestimate converges. */
	if (want < in->throttle_percent + 10)
		want = in->throttle_percent + 10;
	return want > 99 ? 99 : want;
}

void converge_decide(const struct converge_input *in,
		     struct converge_decision *out)
{
	double send_s = in->bandwidth > 0
				? in->remaining_pages * PAGE_BYTES / in->bandwidth
				: 1e9;
	double downtime_ms = send_s * 1000.0 + in->fixed_downtime_ms;
	bool within = downtime_ms <= (double)in->downtime_limit_ms;
	/* Observed, not predicted: a working set the guest rewrites at random
	 * shrinks between passes much more than a linear estimate says. */
	bool have_prev = in->prev_remaining_pages > 0;
	bool shrinking = !have_prev ||
			 in->remaining_pages <= in->prev_remaining_pages / 2;
	bool stuck = have_prev &&
		     in->remaining_pages * 10 >= in->prev_remaining_pages * 9;

	out->expected_downtime_ms = downtime_ms;
	out->throttle_percent = in->throttle_percent;
	out->action = CONVERGE_SWITCH;
	if (in->remaining_pages == 0) {
		snprintf(out->reason, sizeof(out->reason), "nothing dirty");
	} else if (send_s * 1000.0 < 1.0) {
		snprintf(out->reason, sizeof(out->reason),
			 "remaining pages take under 1 ms");
	} else if (within && !shrinking) {
		snprintf(out->reason, sizeof(out->reason),
			 "within the downtime limit and no longer shrinking");
	} else if (in->pass >= in->max_passes) {
		snprintf(out->reason, sizeof(out->reason),
			 "pass limit %u reached: switching over anyway",
			 in->max_passes);
	} else if (!within && in->auto_converge && stuck &&
		   in->throttle_percent < 99) {
		out->action = CONVERGE_THROTTLE;
		out->throttle_percent = needed_throttle(in);
		snprintf(out->reason, sizeof(out->reason),
			 "not converging: throttle to %u%%",
			 out->throttle_percent);
	} else {
		out->action = CONVERGE_ITERATE;
		out->reason[0] = '\0';
	}
}
