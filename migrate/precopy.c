// SPDX-License-Identifier: MIT
/*
 * The pre-copy sender: connect, describe the machine, send all resident
 * memory, then passes of what the guest dirtied until the switch-over
 * policy (converge.c) says stop; then stop-and-copy (stop_copy.c): with
 * the vCPUs stopped, the last dirty pages, the machine state and the
 * memory digest. The guest resumes here on any failure, and logging's
 * other users keep every dirty bit, since this migration only ever
 * consumes its own dirty_set.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate/converge.h"
#include "migrate/digest_job.h"
#include "migrate/migrator_impl.h"
#include "migrate/precopy_impl.h"
#include "migrate/progress.h"
#include "migrate/proto.h"
#include "migrate/ram_send.h"
#include "migrate/stream.h"
#include "migrate/throttle.h"
#include "migrate/transport.h"
#include "migrate/vm_state.h"
#include "migrate/alias_state.h"
#include "lib/wire.h"
#include "vmm/alias/alias.h"
#include "lib/clock.h"
#include "vmm/dirty/dirty.h"
#include "lib/log.h"
#include "vmm/vm.h"

#define CONNECT_TIMEOUT_MS 5000
#define IO_TIMEOUT_MS 10000
#define FDT_MAX_BYTES 65536
/* How long a finished source waits for a client to read the result. */
#define LINGER_MS 3000

static int send_hello_and_config(struct precopy *pc)
{
	const struct vm_config *cfg = vm_config(pc->vm);
	uint8_t *fdt = malloc(FDT_MAX_BYTES);
	struct wbuf w;
	size_t at;
	int ret;

	if (!fdt)
		return -ENOMEM;
	ret = vm_build_fdt(pc->vm, fdt, FDT_MAX_BYTES);
	wbuf_init(&w);
	wbuf_put_u32(&w, 0);
	wbuf_put_str(&w, "kvmtrack");
	if (!ret && !w.err)
		mig_send_buf(&pc->s, MIG_HELLO, w.data, w.len);
	wbuf_reset(&w);
	/* The machine description first, so that the destination refuses an
	 * incompatible machine before it takes any memory. */
	wbuf_put_u64(&w, cfg->mem_bytes);
	wbuf_put_u32(&w, cfg->nr_cpus);
	wbuf_put_str(&w, cfg->cmdline);
	at = wbuf_begin_len(&w);
	if (!ret)
		wbuf_put_bytes(&w, fdt, fdt_totalsize(fdt));
	wbuf_end_len(&w, at);
	windows_put(vm_mem(pc->vm), &w);
	if (!ret && !w.err)
		mig_send_buf(&pc->s, MIG_CONFIG, w.data, w.len);
	ret = ret ?: w.err ?: pc->s.err;
	wbuf_free(&w);
	free(fdt);
	return ret;
}

static int connect_peer(struct precopy *pc, char *err, size_t err_len)
{
	struct mig_uri uri;
	int fd, ret = mig_uri_parse(pc->m->params.uri, &uri, err, err_len);

	if (ret)
		return ret;
	fd = mig_connect(&uri, CONNECT_TIMEOUT_MS, IO_TIMEOUT_MS, err, err_len);
	if (fd < 0)
		return fd;
	mig_stream_init(&pc->s, fd);
	mig_progress_set_fd(&pc->m->progress, fd);
	return 0;
}

/* PASS, then the destination's word that it applied the pass. */
int precopy_pass_frame(struct precopy *pc, unsigned int pass)
{
	uint8_t buf[12];

	put_le32(buf, pass);
	put_le64(buf + 4, pc->rs.total.normal_pages + pc->rs.total.zero_pages);
	return mig_send_buf(&pc->s, MIG_PASS, buf, sizeof(buf));
}

int precopy_expect_synced(struct precopy *pc, unsigned int pass)
{
	int ret = mig_expect(&pc->s, MIG_SYNCED);

	if (!ret && (pc->s.len != 4 || get_le32(pc->s.payload) != pass))
		ret = mig_stream_fail(&pc->s, -EPROTO,
				      "SYNCED for another pass than %u", pass);
	return ret;
}

static int send_pass_end(struct precopy *pc, unsigned int pass)
{
	return precopy_pass_frame(pc, pass) ?: precopy_expect_synced(pc, pass);
}

static bool timed_out(const struct precopy *pc)
{
	const struct migrator *m = pc->m;

	return m->params.timeout_ms &&
	       clock_now_ns() - m->progress.start_ns >
		       m->params.timeout_ms * 1000000ull;
}

/*
 * The stopped source reads all written memory for the digest: about 5 GB/s
 * on the development hosts (shared/KVM-HERE.md: memcpy of cold memory); 4
 * keeps the estimate on the safe side. Nothing for --verify sent.
 */
#define DIGEST_BYTES_PER_S 4e9

static double digest_estimate_ms(const struct precopy *pc)
{
	if (pc->m->params.verify_sent)
		return 0;
	return pc->written_pages * 4096.0 / DIGEST_BYTES_PER_S * 1000.0;
}

/* Pre-copy passes until the policy says switch over. */
static int iterate(struct precopy *pc)
{
	uint64_t pass_start = clock_now_ns(), pass_ns;
	uint64_t pass_bytes = pc->rs.total.page_bytes;
	unsigned int pass = 1;
	uint64_t prev_remaining = 0, working_set;
	int ret = ram_send_resident(&pc->rs);

	pc->written_pages = pc->rs.total.normal_pages + pc->rs.total.zero_pages;
	working_set = pc->written_pages;
	for (; !ret; pass++) {
		struct converge_input in = {
			.downtime_limit_ms = pc->m->params.downtime_ms,
			.fixed_downtime_ms = digest_estimate_ms(pc),
			.pass = pass,
			.max_passes = pc->m->params.max_passes,
			.auto_converge = pc->m->params.auto_converge,
			.throttle_percent = throttle_percent(pc->throttle),
		};
		struct converge_decision d;

		/* A pass lasts until the destination applied it. */
		ret = send_pass_end(pc, pass);
		pass_ns = clock_now_ns() - pass_start;
		pass_bytes = pc->rs.total.page_bytes - pass_bytes;
		/* The pages are read while the guest runs: each block's log is
		 * cleared just before it is read (ram_send_dirty), on the
		 * backends where clearing is separate from reading the log. */
		ret = ret ?: dirty_sync(vm_dirty(pc->vm), true);
		if (ret)
			break;
		in.remaining_pages = dirty_set_count(&pc->set);
		in.prev_remaining_pages = prev_remaining;
		prev_remaining = in.remaining_pages;
		if (in.remaining_pages > working_set)
			working_set = in.remaining_pages;
		in.working_set_pages = working_set;
		in.pass_s = pass_ns / 1e9;
		in.bandwidth = pass_bytes * 1e9 / (double)(pass_ns ? pass_ns : 1);
		converge_decide(&in, &d);
		mig_progress_pass(&pc->m->progress, pass, &d, &in);
		if (d.action == CONVERGE_SWITCH)
			return 0;
		if (timed_out(pc))
			return mig_stream_fail(&pc->s, -ETIMEDOUT,
					       "no switch-over within the %llu s timeout",
					       (unsigned long long)(pc->m->params.timeout_ms / 1000));
		if (d.action == CONVERGE_THROTTLE)
			ret = throttle_set(pc->throttle, d.throttle_percent);
		pass_start = clock_now_ns();
		pass_bytes = pc->rs.total.page_bytes;
		ret = ret ?: ram_send_dirty(&pc->rs, &pc->set, true);
	}
	return ret;
}

static int precopy_setup(struct precopy *pc, char *err, size_t err_len)
{
	struct vm *vm = pc->vm;
	uint64_t t0 = clock_now_ns();
	int ret;

	ret = connect_peer(pc, err, err_len);
	if (ret)
		return ret;
	/* The windows go out in CONFIG: they must not change after that. */
	alias_freeze(vm_mem(vm), true);
	ret = send_hello_and_config(pc);
	if (ret)
		return ret;
	/* The destination builds its VM meanwhile: READY is awaited last. */
	ret = vm_state_prepare(vm);
	ret = ret ?: dirty_set_init(&pc->set, vm_mem(vm));
	ret = ret ?: throttle_create(vm, &pc->throttle);
	ret = ret ?: ram_sender_init(&pc->rs);
	if (ret)
		return mig_stream_fail(&pc->s, ret, "setup: %s", strerror(-ret));
	pc->rs.s = &pc->s;
	pc->rs.mem = vm_mem(vm);
	pc->rs.dirty = vm_dirty(vm);
	pc->rs.max_bytes_per_s = pc->m->params.max_bandwidth;
	pc->rs.cancel = &pc->m->progress.cancel;
	pc->rs.lose_percent = pc->m->params.x_lose_dirty_percent;
	pc->rs.progress = mig_progress_ram;
	pc->rs.progress_arg = &pc->m->progress;
	if (pc->m->params.verify_sent && ram_sender_keep_digest(&pc->rs))
		return mig_stream_fail(&pc->s, -ENOMEM, "setup: out of memory");
	if (!pc->m->params.verify_sent) {
		digest_job_init(&pc->digest_job, vm_mem(vm));
		pc->have_digest_job = true;
	}
	/* From here every write is recorded: the first pass may race with
	 * the guest and the next pass resends what it changed. */
	ret = dirty_attach(vm_dirty(vm), &pc->set);
	if (ret)
		return mig_stream_fail(&pc->s, ret, "cannot start dirty logging: %s",
				       strerror(-ret));
	pc->attached = true;
	ret = mig_expect(&pc->s, MIG_READY);
	if (ret)
		return ret;
	mig_progress_active(&pc->m->progress, (clock_now_ns() - t0) / 1000000);
	return 0;
}

static void precopy_cleanup(struct precopy *pc)
{
	if (pc->have_digest_job)
		digest_job_destroy(&pc->digest_job);
	alias_freeze(vm_mem(pc->vm), false);
	throttle_destroy(pc->throttle);
	if (pc->attached)
		dirty_detach(vm_dirty(pc->vm), &pc->set);
	dirty_set_free(&pc->set);
	ram_sender_free(&pc->rs);
	mig_progress_close_fd(&pc->m->progress, pc->s.fd);
	mig_stream_free(&pc->s);
}

/*
 * After DIGEST, a connection that fails without the destination's ERROR
 * leaves it unknown whether the guest runs there: the destination resumes
 * it before it says DONE. Resuming here too could run the guest twice, on
 * two hosts at once; so it stays paused, and the user decides (as QEMU's
 * source stays in postmigrate). The peer's ERROR ("peer: ...") says it
 * discarded everything, and then resuming here is safe.
 */
static bool outcome_unknown(const struct precopy *pc)
{
	return pc->digest_sent && strncmp(pc->s.err_msg, "peer: ", 6) != 0;
}

/* Failure: tell the peer, resume the guest here, record why. */
static void precopy_fail(struct precopy *pc, int err, const char *why)
{
	struct migrator *m = pc->m;
	bool cancelled = mig_progress_cancelled(&m->progress);
	bool unknown = outcome_unknown(pc);
	char msg[sizeof(m->progress.error)];
	const char *error;

	if (unknown) {
		snprintf(msg, sizeof(msg),
			 "%s after the whole guest was sent: the destination may be running it, so it stays paused here; 'resume' it here only if it does not run there",
			 why);
		why = msg;
	}
	if (pc->s.fd > 0)
		mig_send_error(&pc->s, err, cancelled ? "cancelled" : why);
	if (pc->stopped_vm && !unknown)
		vm_resume(pc->vm);
	error = cancelled ? "cancelled by request" : why;
	mig_progress_fail(&m->progress,
			  cancelled ? MIG_STATUS_CANCELLED : MIG_STATUS_FAILED,
			  error);
	if (unknown)
		log_err("migration to %s failed: %s", m->params.uri, error);
	else
		log_err("migration to %s failed: %s; the guest keeps running here",
			m->params.uri, error);
}

/* Success: the guest runs at the destination now; stop it here once a
 * client has read the result (or after a grace period). */
static void precopy_done(struct precopy *pc)
{
	struct migrator *m = pc->m;
	const struct mig_stats *st = &m->progress.stats;
	char why[400];

	/* Final from here: nothing writes the figures any more. */
	mig_progress_complete(&m->progress, LINGER_MS);
	snprintf(why, sizeof(why),
		 "guest migrated to %s (downtime %.3f ms, total %llu ms)",
		 m->params.uri, st->downtime_us / 1000.0,
		 (unsigned long long)st->total_ms);
	vm_request_stop(pc->vm, VM_STOP_MIGRATED, 0, why);
}

void *precopy_thread(void *arg)
{
	struct precopy pc = { .m = arg, .vm = ((struct migrator *)arg)->vm };
	char err[256] = "";
	int ret;

	pc.s.fd = -1;
	ret = precopy_setup(&pc, err, sizeof(err));
	ret = ret ?: iterate(&pc);
	ret = ret ?: stop_and_copy(&pc);
	if (ret) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s",
				 pc.s.err_msg[0] ? pc.s.err_msg : strerror(-ret));
		precopy_fail(&pc, ret, err);
	} else {
		/* Before the clean-up: turning dirty logging off costs 0.5 ms
		 * and more of CPU here, which a destination on this host needs
		 * while its guest resumes. The guest here stays stopped. */
		precopy_done(&pc);
	}
	precopy_cleanup(&pc);
	return NULL;
}
