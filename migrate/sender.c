// SPDX-License-Identifier: MIT
/*
 * Setting up and tearing down an outgoing migration's sender, and the
 * frames that end a pass (see sender.h).
 */
#include "migrate/sender.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "migrate/alias_state.h"
#include "migrate/params.h"
#include "migrate/progress.h"
#include "migrate/proto.h"
#include "migrate/receive.h"
#include "migrate/throttle.h"
#include "migrate/tls.h"
#include "migrate/transport.h"
#include "migrate/vm_state.h"
#include "vmm/alias/alias.h"
#include "vmm/vm.h"

#define CONNECT_TIMEOUT_MS 5000
#define IO_TIMEOUT_MS 10000
#define FDT_MAX_BYTES 65536

static int send_hello_and_config(struct sender *sd)
{
	const struct vm_config *cfg = vm_config(sd->vm);
	uint8_t *fdt = malloc(FDT_MAX_BYTES);
	struct wbuf w;
	int ret;

	if (!fdt)
		return -ENOMEM;
	ret = vm_build_fdt(sd->vm, fdt, FDT_MAX_BYTES);
	wbuf_init(&w);
	wbuf_put_u32(&w, 0);
	wbuf_put_str(&w, "kvmtrack");
	if (!ret && !w.err)
		mig_send_buf(&sd->s, MIG_HELLO, w.data, w.len);
	wbuf_reset(&w);
	/* The machine description first, so that the destination refuses an
	 * incompatible machine before it takes any memory. */
	mig_config_put(&w, cfg->mem_bytes, cfg->nr_cpus, cfg->cmdline,
		       ret ? NULL : fdt);
	windows_put(vm_mem(sd->vm), &w);
	if (!ret && !w.err)
		mig_send_buf(&sd->s, MIG_CONFIG, w.data, w.len);
	ret = ret ?: w.err ?: sd->s.err;
	wbuf_free(&w);
	free(fdt);
	return ret;
}

/* TLS before the first frame: a destination that refuses us never sees
 * the machine, nor a page. */
static int secure(struct sender *sd, const struct mig_uri *uri, char *err,
		  size_t err_len)
{
	char how[256];
	int ret = mig_tls_handshake(sd->tls, sd->s.fd, uri->host, &sd->s.tls_io,
				    how, sizeof(how));

	if (ret) {
		snprintf(err, err_len, "TLS with %s: %s", sd->params->uri, how);
		return ret;
	}
	sd->s.tls = true;
	log_info("migration channel to %s: %s", sd->params->uri, how);
	return 0;
}

static int connect_peer(struct sender *sd, char *err, size_t err_len)
{
	struct mig_uri uri;
	int fd, ret = mig_uri_parse(sd->params->uri, &uri, err, err_len);

	if (ret)
		return ret;
	if (mig_tls_wanted(&sd->params->tls)) {
		ret = mig_tls_load(&sd->params->tls, false, &sd->tls, err,
				   err_len);
		if (ret)
			return ret;
	}
	fd = mig_connect(&uri, CONNECT_TIMEOUT_MS, IO_TIMEOUT_MS, err, err_len);
	if (fd < 0)
		return fd;
	mig_stream_init(&sd->s, fd);
	mig_progress_set_fd(sd->progress, fd);
	return sd->tls ? secure(sd, &uri, err, err_len) : 0;
}

int sender_pass_frame(struct sender *sd, unsigned int pass)
{
	uint8_t buf[12];

	put_le32(buf, pass);
	put_le64(buf + 4, sd->rs.total.normal_pages + sd->rs.total.zero_pages);
	return mig_send_buf(&sd->s, MIG_PASS, buf, sizeof(buf));
}

int sender_expect_synced(struct sender *sd, unsigned int pass)
{
	int ret = mig_expect(&sd->s, MIG_SYNCED);

	if (!ret && (sd->s.len != 4 || get_le32(sd->s.payload) != pass))
		ret = mig_stream_fail(&sd->s, -EPROTO,
				      "SYNCED for another pass than %u", pass);
	return ret;
}

int sender_setup(struct sender *sd, char *err, size_t err_len)
{
	struct vm *vm = sd->vm;
	uint64_t t0 = clock_now_ns();
	int ret;

	ret = connect_peer(sd, err, err_len);
	if (ret)
		return ret;
	/* The windows go out in CONFIG: they must not change after that. */
	alias_freeze(vm_mem(vm), true);
	ret = send_hello_and_config(sd);
	if (ret)
		return ret;
	/* The destination builds its VM meanwhile: READY is awaited last. */
	ret = vm_state_prepare(vm);
	ret = ret ?: dirty_set_init(&sd->set, vm_mem(vm));
	ret = ret ?: throttle_create(vm, &sd->throttle);
	ret = ret ?: ram_sender_init(&sd->rs);
	if (ret)
		return mig_stream_fail(&sd->s, ret, "setup: %s", strerror(-ret));
	sd->rs.s = &sd->s;
	sd->rs.mem = vm_mem(vm);
	sd->rs.dirty = vm_dirty(vm);
	sd->rs.max_bytes_per_s = sd->params->max_bandwidth;
	sd->rs.cancel = &sd->progress->cancel;
	sd->rs.lose_percent = sd->params->x_lose_dirty_percent;
	sd->rs.progress = mig_progress_ram;
	sd->rs.progress_arg = sd->progress;
	if (sd->params->verify_sent && ram_sender_keep_digest(&sd->rs))
		return mig_stream_fail(&sd->s, -ENOMEM, "setup: out of memory");
	if (!sd->params->verify_sent) {
		digest_job_init(&sd->digest_job, vm_mem(vm));
		sd->have_digest_job = true;
	}
	/* From here every write is recorded: the first pass may race with
	 * the guest and the next pass resends what it changed. */
	ret = dirty_attach(vm_dirty(vm), &sd->set);
	if (ret)
		return mig_stream_fail(&sd->s, ret, "cannot start dirty logging: %s",
				       strerror(-ret));
	sd->attached = true;
	ret = mig_expect(&sd->s, MIG_READY);
	if (ret)
		return ret;
	mig_progress_active(sd->progress, (clock_now_ns() - t0) / 1000000);
	return 0;
}

void sender_cleanup(struct sender *sd)
{
	if (sd->have_digest_job)
		digest_job_destroy(&sd->digest_job);
	alias_freeze(vm_mem(sd->vm), false);
	throttle_destroy(sd->throttle);
	if (sd->attached)
		dirty_detach(vm_dirty(sd->vm), &sd->set);
	dirty_set_free(&sd->set);
	ram_sender_free(&sd->rs);
	mig_progress_close_fd(sd->progress, sd->s.fd);
	mig_stream_free(&sd->s);
	mig_tls_free(sd->tls);
	sd->tls = NULL;
}
