// SPDX-License-Identifier: MIT
/*
 * Stop-and-copy: the vCPUs paused, the last dirty pages, every vCPU's and
 * device's state and the memory digest leave at once, and the source waits
 * for the destination's DONE (see stop_copy.h).
 */
#include "migrate/stop_copy.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/clock.h"
#include "lib/wire.h"
#include "migrate/digest.h"
#include "migrate/params.h"
#include "migrate/progress.h"
#include "migrate/proto.h"
#include "migrate/sender.h"
#include "migrate/throttle.h"
#include "migrate/vm_state.h"
#include "vmm/dirty/dirty.h"
#include "vmm/vm.h"

#define DONE_TIMEOUT_MS 30000

static uint64_t lap_us(uint64_t *t)
{
	uint64_t now = clock_now_ns(), us = (now - *t) / 1000;

	*t = now;
	return us;
}

static int send_state(struct sender *sd)
{
	struct wbuf w;
	int ret;

	wbuf_init(&w);
	ret = vm_state_save(sd->vm, &w);
	ret = ret ?: w.err;
	if (!ret)
		mig_send_buf(&sd->s, MIG_STATE, w.data, w.len);
	wbuf_free(&w);
	if (ret)
		return mig_stream_fail(&sd->s, ret, "saving the machine state: %s",
				       strerror(-ret));
	return sd->s.err;
}

/*
 * --verify full: the whole memory as it is with the vCPUs stopped, read
 * again; it checks the dirty tracking too, not only the transfer.
 * --verify sent: the digest of every page as it was sent, the last ones
 * included.
 */
static int send_digest(struct sender *sd)
{
	struct mem_digest digest;
	uint8_t buf[16];

	if (sd->params->verify_sent) {
		uint64_t gpa = 0, bad;

		bad = mem_spot_check(vm_mem(sd->vm), sd->rs.terms,
				     sd->rs.term_blocks,
				     sd->rs.sent_nonzero_pages, SPOT_CHECK_PAGES,
				     clock_now_ns(), &gpa);
		if (bad)
			return mig_stream_fail(&sd->s, -EIO,
					       "spot check: %llu of %u written pages read again differ from what was sent (the first at GPA %#llx): the dirty log missed writes",
					       (unsigned long long)bad,
					       SPOT_CHECK_PAGES,
					       (unsigned long long)gpa);
		digest.digest = sd->rs.sent_digest;
		digest.nonzero_pages = sd->rs.sent_nonzero_pages;
	} else {
		digest_job_result(&sd->digest_job, sd->digest_job_called,
				  &digest);
	}
	put_le64(buf, digest.digest);
	put_le64(buf + 8, digest.nonzero_pages);
	return mig_send_buf(&sd->s, MIG_DIGEST, buf, sizeof(buf));
}

/*
 * Corked, the last pages, the end of the pass and the state leave in full
 * segments and the rest at once when uncorked: a destination on this host
 * is woken once for them, not once per frame (each such wake-up takes the
 * CPU from this thread for ~10 us, the waker's CPU being where Linux puts
 * a socket's reader). Full segments still go out at once, so a large last
 * pass streams as before. Not a TCP socket: nothing happens.
 */
static void cork(struct sender *sd, int on)
{
	setsockopt(sd->s.fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

/*
 * With the vCPUs stopped: the last dirty pages, the state and the digest,
 * which the last vCPU to park reads meanwhile (digest_job.h).
 */
static int send_final(struct sender *sd, uint64_t *t)
{
	struct mig_stats *st = &sd->progress->stats;
	int ret;

	/* The cap protects the link during the long pre-copy; the last pages
	 * are the downtime itself, so they go as fast as the link allows. */
	sd->rs.max_bytes_per_s = 0;
	cork(sd, 1);
	ret = dirty_sync(vm_dirty(sd->vm), false);
	ret = ret ?: ram_send_dirty(&sd->rs, &sd->set, false);
	/* Its SYNCED is read with DONE: a round trip here would be one in
	 * the downtime, and would wait for the corked frames. */
	ret = ret ?: sender_pass_frame(sd, 0);
	st->final_pages_us = lap_us(t);
	/* The destination loads the state while the digest is finished. */
	ret = ret ?: send_state(sd);
	cork(sd, 0);
	st->state_us = lap_us(t);
	ret = ret ?: send_digest(sd);
	sd->digest_sent = !ret;
	st->digest_us = lap_us(t);
	return ret;
}

/* --verify full: the last vCPU to park reads the digest. */
static int pause_vcpus(struct sender *sd)
{
	sd->digest_job_called = false;
	if (!sd->have_digest_job)
		return vm_pause(sd->vm);
	return vm_pause_then(sd->vm, digest_job_run, &sd->digest_job,
			     &sd->digest_job_called);
}

/* Before anything else uses the job or the vCPUs: a vCPU thread may still
 * be reading the digest after a failure. */
static void finish_digest_job(struct sender *sd)
{
	if (sd->have_digest_job)
		digest_job_finish(&sd->digest_job, sd->digest_job_called);
}

int stop_and_copy(struct sender *sd)
{
	struct mig_stats *st = &sd->progress->stats;
	struct timeval done_tv = { .tv_sec = DONE_TIMEOUT_MS / 1000 };
	uint64_t t;
	int ret;

	/* Only when on: it wakes the throttle thread, at the worst moment. */
	if (throttle_percent(sd->throttle))
		throttle_set(sd->throttle, 0);
	mig_progress_set_status(sd->progress, MIG_STATUS_DEVICE);
	/* The destination checks its memory, then resumes and says DONE: it
	 * may take a while with a large memory. Set before the stop, as
	 * everything that need not be done with the guest stopped. */
	setsockopt(sd->s.fd, SOL_SOCKET, SO_RCVTIMEO, &done_tv,
		   sizeof(done_tv));
	sd->stop_ns = t = clock_now_ns();
	ret = pause_vcpus(sd);
	st->stop_us = lap_us(&t);
	if (ret && ret != -EALREADY) {
		finish_digest_job(sd);
		return mig_stream_fail(&sd->s, ret, "cannot stop the vCPUs: %s",
				       strerror(-ret));
	}
	sd->stopped_vm = ret == 0;
	ret = send_final(sd, &t);
	finish_digest_job(sd);
	if (ret)
		return ret;
	ret = sender_expect_synced(sd, 0) ?: mig_expect(&sd->s, MIG_DONE);
	st->ack_us = lap_us(&t);
	/* The guest runs at the destination from here on. */
	st->downtime_us = (t - sd->stop_ns) / 1000;
	st->downtime_ms = (st->downtime_us + 500) / 1000;
	return ret;
}
