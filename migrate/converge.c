// SPDX-License-Identifier: MIT
/*
 * The switch-over policy. QEMU switches as soon as the remaining pages fit
 * in the downtime limit; kvmtrack keeps iterating while the last pass
 * (observed, not predicted) halved what remains, because each such pass
 * costs no downtime and the final stop-and-copy gets shorter. The limit is a bound,
 * not a target. Explicit ends: nothing left or under 1 ms of work, the
 * limit met with no more progress, or the pass limit (switch anyway, and
 * say so). Auto-converge throttles the vCPUs once, by as much as the next
 * pass needs to end within the limit, and switches over as soon as it
 * does: each throttled pass costs the guest work, so one firm step loses
 * less than a slow ramp (QEMU's 20% then 10 more a pass).
 */
#include "migrate/converge.h"

#include <math.h>
#include <stdio.h>

#define PAGE_BYTES 4096.0
/* Of the downtime budget, what the throttle aims at: bandwidth and the
 * guest's rate are measured over one pass and vary. */
#define TARGET_SHARE 0.8
/* Beyond this share of the working set dirty, the model cannot tell how
 * many writes it took: assume e^-3 of it was left clean. */
#define MAX_DIRTY_SHARE 0.95

static double min_d(double a, double b)
{
	return a < b ? a : b;
}

/* Writes a guest makes to dirty `dirty` of `set` distinct pages, writing
 * at random: dirty = set * (1 - e^(-writes / set)). */
static double writes_for(double dirty, double set)
{
	return -set * log(1.0 - min_d(dirty / set, MAX_DIRTY_SHARE));
}

/*
 * The throttle under which the next pass leaves at most target pages
 * dirty. The next pass lasts as long as sending what is dirty now; the
 * last one says how fast the guest writes, unthrottled. A page written
 * twice is sent once, so the pages dirtied grow more slowly than the
 * writes (writes_for) once they are a fair share of the working set; for a
 * working set much larger than what is dirtied, as with a sequential
 * writer over a large buffer, the two are the same. When the limit cannot
 * be met at all (the digest alone exceeds it), there is no target: the
 * usual step only.
 */
static unsigned int needed_throttle(const struct converge_input *in,
				    double target_pages)
{
	double set = (double)(in->working_set_pages > in->remaining_pages
				      ? in->working_set_pages
				      : in->remaining_pages);
	double keep_now = 1.0 - in->throttle_percent / 100.0;
	double rate = writes_for((double)in->remaining_pages, set) /
		      (in->pass_s > 0 ? in->pass_s : 1.0) / keep_now;
	double next_s = in->remaining_pages * PAGE_BYTES / in->bandwidth;
	double keep = rate > 0 && target_pages >= 1
			      ? writes_for(target_pages, set) / (rate * next_s)
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
	double budget_ms = (double)in->downtime_limit_ms - in->fixed_downtime_ms;
	double target_pages = budget_ms > 0 ? TARGET_SHARE * budget_ms / 1000.0 *
						      in->bandwidth / PAGE_BYTES
					    : 0.0;

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
	} else if (within && in->throttle_percent) {
		snprintf(out->reason, sizeof(out->reason),
			 "within the downtime limit, the guest throttled to %u%%",
			 in->throttle_percent);
	} else if (in->pass >= in->max_passes) {
		snprintf(out->reason, sizeof(out->reason),
			 "pass limit %u reached: switching over anyway",
			 in->max_passes);
	} else if (!within && in->auto_converge && stuck &&
		   in->throttle_percent < 99) {
		out->action = CONVERGE_THROTTLE;
		out->throttle_percent = needed_throttle(in, target_pages);
		snprintf(out->reason, sizeof(out->reason),
			 "not converging: throttle to %u%%",
			 out->throttle_percent);
	} else {
		out->action = CONVERGE_ITERATE;
		out->reason[0] = '\0';
	}
}
