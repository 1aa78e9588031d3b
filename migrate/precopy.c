// SPDX-License-Identifier: MIT
/*
 * Pre-copy: connect and describe the machine (sender.c), send all resident
 * memory, then passes of what the guest dirtied until the switch-over
 * policy (converge.c) says stop; then stop-and-copy (stop_copy.c): with
 * the vCPUs stopped, the last dirty pages, the machine state and the
 * memory digest. The guest resumes here on any failure, and logging's
 * other users keep every dirty bit, since this migration only ever
 * consumes its own dirty_set.
 */
#include "migrate/precopy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "migrate/converge.h"
#include "migrate/params.h"
#include "migrate/progress.h"
#include "migrate/sender.h"
#include "migrate/stop_copy.h"
#include "migrate/throttle.h"
#include "vmm/dirty/dirty.h"
#include "vmm/vm.h"

/* How long a finished source waits for a client to read the result. */
#define LINGER_MS 3000

static int send_pass_end(struct sender *sd, unsigned int pass)
{
	return sender_pass_frame(sd, pass) ?: sender_expect_synced(sd, pass);
}

static bool timed_out(const struct sender *sd)
{
	const struct mig_params *p = sd->params;

	return p->timeout_ms &&
	       clock_now_ns() - sd->progress->start_ns >
		       p->timeout_ms * 1000000ull;
}

/*
 * The stopped source reads all written memory for the digest: about 5 GB/s
 * on the development hosts (shared/KVM-HERE.md: memcpy of cold memory); 4
 * keeps the estimate on the safe side. Nothing for --verify sent.
 */
#define DIGEST_BYTES_PER_S 4e9

static double digest_estimate_ms(const struct sender *sd)
{
	if (sd->params->verify_sent)
		return 0;
	return sd->written_pages * 4096.0 / DIGEST_BYTES_PER_S * 1000.0;
}

/* Pre-copy passes until the policy says switch over. */
static int iterate(struct sender *sd)
{
	uint64_t pass_start = clock_now_ns(), pass_ns;
	uint64_t pass_bytes = sd->rs.total.page_bytes;
	unsigned int pass = 1;
	uint64_t prev_remaining = 0, working_set;
	int ret = ram_send_resident(&sd->rs);

	sd->written_pages = sd->rs.total.normal_pages + sd->rs.total.zero_pages;
	working_set = sd->written_pages;
	for (; !ret; pass++) {
		struct converge_input in = {
			.downtime_limit_ms = sd->params->downtime_ms,
			.fixed_downtime_ms = digest_estimate_ms(sd),
			.pass = pass,
			.max_passes = sd->params->max_passes,
			.auto_converge = sd->params->auto_converge,
			.throttle_percent = throttle_percent(sd->throttle),
		};
		struct converge_decision d;

		/* A pass lasts until the destination applied it. */
		ret = send_pass_end(sd, pass);
		pass_ns = clock_now_ns() - pass_start;
		pass_bytes = sd->rs.total.page_bytes - pass_bytes;
		/* The pages are read while the guest runs: each block's log is
		 * cleared just before it is read (ram_send_dirty), on the
		 * backends where clearing is separate from reading the log. */
		ret = ret ?: dirty_sync(vm_dirty(sd->vm), true);
		if (ret)
			break;
		in.remaining_pages = dirty_set_count(&sd->set);
		in.prev_remaining_pages = prev_remaining;
		prev_remaining = in.remaining_pages;
		if (in.remaining_pages > working_set)
			working_set = in.remaining_pages;
		in.working_set_pages = working_set;
		in.pass_s = pass_ns / 1e9;
		in.bandwidth = pass_bytes * 1e9 / (double)(pass_ns ? pass_ns : 1);
		converge_decide(&in, &d);
		mig_progress_pass(sd->progress, pass, &d, &in);
		if (d.action == CONVERGE_SWITCH)
			return 0;
		if (timed_out(sd))
			return mig_stream_fail(&sd->s, -ETIMEDOUT,
					       MIG_NO_SWITCH_OVER,
					       (unsigned int)(sd->params->timeout_ms / 1000));
		if (d.action == CONVERGE_THROTTLE)
			ret = throttle_set(sd->throttle, d.throttle_percent);
		pass_start = clock_now_ns();
		pass_bytes = sd->rs.total.page_bytes;
		ret = ret ?: ram_send_dirty(&sd->rs, &sd->set, true);
	}
	return ret;
}

/*
 * After DIGEST, a connection that fails without the destination's ERROR
 * leaves it unknown whether the guest runs there: the destination resumes
 * it before it says DONE. Resuming here too could run the guest twice, on
 * two hosts at once; so it stays paused, and the user decides (as QEMU's
 * source stays in postmigrate). The peer's ERROR ("peer: ...") says it
 * discarded everything, and then resuming here is safe.
 */
static bool outcome_unknown(const struct sender *sd)
{
	return sd->digest_sent && strncmp(sd->s.err_msg, "peer: ", 6) != 0;
}

/* Failure: tell the peer, resume the guest here, record why. */
static void precopy_fail(struct sender *sd, int err, const char *why)
{
	bool cancelled = mig_progress_cancelled(sd->progress);
	bool unknown = outcome_unknown(sd);
	char msg[sizeof(sd->progress->error)];
	const char *error;

	if (unknown) {
		snprintf(msg, sizeof(msg),
			 "%s after the whole guest was sent: the destination may be running it, so it stays paused here; 'resume' it here only if it does not run there",
			 why);
		why = msg;
	}
	if (sd->s.fd > 0)
		mig_send_error(&sd->s, err, cancelled ? "cancelled" : why);
	if (sd->stopped_vm && !unknown)
		vm_resume(sd->vm);
	error = cancelled ? "cancelled by request" : why;
	mig_progress_fail(sd->progress,
			  cancelled ? MIG_STATUS_CANCELLED : MIG_STATUS_FAILED,
			  error);
	if (unknown)
		log_err("migration to %s failed: %s", sd->params->uri, error);
	else
		log_err("migration to %s failed: %s; the guest keeps running here",
			sd->params->uri, error);
}

/* Success: the guest runs at the destination now; stop it here once a
 * client has read the result (or after a grace period). */
static void precopy_done(struct sender *sd)
{
	const struct mig_stats *st = &sd->progress->stats;
	char why[400];

	/* Final from here: nothing writes the figures any more. */
	mig_progress_complete(sd->progress, LINGER_MS);
	snprintf(why, sizeof(why),
		 "guest migrated to %s (downtime %.3f ms, total %llu ms)",
		 sd->params->uri, st->downtime_us / 1000.0,
		 (unsigned long long)st->total_ms);
	vm_request_stop(sd->vm, VM_STOP_MIGRATED, 0, why);
}

void precopy_run(struct vm *vm, const struct mig_params *params,
		 struct mig_progress *progress)
{
	struct sender sd = { .params = params, .progress = progress, .vm = vm };
	char err[256] = "";
	int ret;

	sd.s.fd = -1;
	ret = sender_setup(&sd, err, sizeof(err));
	if (!ret && params->timeout_ms)
		mig_stream_switch_deadline(
		    &sd.s, progress->start_ns + params->timeout_ms * 1000000ull,
		    (unsigned int)(params->timeout_ms / 1000));
	ret = ret ?: iterate(&sd);
	mig_stream_switch_deadline(&sd.s, 0, 0);
	ret = ret ?: stop_and_copy(&sd);
	if (ret) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s",
				 sd.s.err_msg[0] ? sd.s.err_msg : strerror(-ret));
		precopy_fail(&sd, ret, err);
	} else {
		/* Before the clean-up: turning dirty logging off costs 0.5 ms
		 * and more of CPU here, which a destination on this host needs
		 * while its guest resumes. The guest here stays stopped. */
		precopy_done(&sd);
	}
	sender_cleanup(&sd);
}
