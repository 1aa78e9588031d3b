// SPDX-License-Identifier: MIT
/* Receiving a live migration (see incoming.h). */
#include "migrate/incoming.h"

#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "control/control.h"
#include "lib/clock.h"
#include "lib/json/json.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "migrate/alias_state.h"
#include "migrate/proto.h"
#include "migrate/ram_recv.h"
#include "migrate/stream.h"
#include "migrate/transport.h"
#include "migrate/vm_state.h"
#include "vmm/mem/memory.h"
#include "vmm/vm.h"
#include "vmm/vm_config.h"

#define IO_TIMEOUT_MS 10000
#define CONFIG_FDT_MAX_BYTES 65536

struct incoming {
	struct mig_stream s;
	struct vm_config cfg; /* the machine the source described */
	char cmdline[VM_CMDLINE_MAX];
	char peer[128];
	struct vm *vm;
	uint64_t start_ns;
	/* what arrived: RAM and the digest of this side's memory */
	struct ram_receiver ram;
	unsigned int passes;
	uint64_t total_ms;
	bool verified;
};

/* The source's machine must match what this destination can be. */
static int check_config(struct incoming *in, const struct vm_config *cfg,
			struct rbuf *r)
{
	struct mig_stream *s = &in->s;
	struct guest_mem plan;
	struct rbuf fdt_block;
	uint64_t mem = rbuf_get_u64(r);
	uint32_t cpus = rbuf_get_u32(r);
	/* libfdt wants the tree 8-byte aligned: copy it out of the frame. */
	static uint64_t fdt[CONFIG_FDT_MAX_BYTES / 8];

	rbuf_get_str(r, in->cmdline, sizeof(in->cmdline));
	fdt_block = rbuf_get_block(r);
	if (fdt_block.len < 64 || fdt_block.len > sizeof(fdt))
		fdt_block.err = -EBADMSG;
	rbuf_get_bytes(&fdt_block, fdt, fdt_block.len);
	if (r->err || fdt_block.err || fdt_check_header(fdt) ||
	    fdt_totalsize(fdt) > fdt_block.len)
		return mig_stream_fail(s, -EBADMSG, "CONFIG frame is malformed");
	if (mem < VM_MIN_MEM_BYTES || guest_mem_plan(&plan, mem) < 0)
		return mig_stream_fail(s, -EINVAL,
				       "source RAM size %llu is not usable",
				       (unsigned long long)mem);
	if (cpus < 1 || cpus > VM_MAX_CPUS)
		return mig_stream_fail(s, -EINVAL,
				       "source has %u vCPUs, at most %d work here",
				       cpus, VM_MAX_CPUS);
	if (cfg->mem_explicit && cfg->mem_bytes != mem)
		return mig_stream_fail(s, -EINVAL,
				       "incompatible machine: the source has %llu MiB of RAM, the destination was started with %llu MiB",
				       (unsigned long long)(mem >> 20),
				       (unsigned long long)(cfg->mem_bytes >> 20));
	if (cfg->cpus_explicit && cfg->nr_cpus != cpus)
		return mig_stream_fail(s, -EINVAL,
				       "incompatible machine: the source has %u vCPUs, the destination was started with %u",
				       cpus, cfg->nr_cpus);
	if (fdt_node_check_compatible(fdt, 0, "kvmtrack,pc"))
		return mig_stream_fail(s, -EINVAL,
				       "incompatible machine: the source is not a kvmtrack PC");
	in->cfg = *cfg;
	in->cfg.mem_bytes = mem;
	in->cfg.nr_cpus = cpus;
	in->cfg.cmdline = in->cmdline;
	in->cfg.image_path = NULL;
	return 0;
}

/* The VM and its digest terms, for in->cfg; vCPU threads wait paused. */
static int build_vm(struct incoming *in)
{
	int ret = vm_create(&in->cfg, &in->vm);

	/* Found while no vCPU runs: see vm_state_prepare(). */
	if (!ret)
		vm_state_prepare(in->vm);
	ret = ret ?: vm_prestart(in->vm);
	return ret ?: ram_receiver_init(&in->ram, vm_mem(in->vm));
}

/*
 * Started with -m and -c, as QEMU's destination is started with the
 * source's options, the machine is known before the source speaks: it is
 * built while waiting (creating a 1 GiB memslot alone takes ~6 ms here),
 * and CONFIG only has to match it. Its boot arguments are the source's,
 * read into in->cmdline when CONFIG arrives.
 */
static void prebuild_vm(struct incoming *in, const struct vm_config *cfg)
{
	if (in->vm || !cfg->mem_explicit || !cfg->cpus_explicit)
		return;
	in->cfg = *cfg;
	in->cmdline[0] = '\0';
	in->cfg.cmdline = in->cmdline;
	in->cfg.image_path = NULL;
	if (build_vm(in)) {
		/* Not fatal: it is built again when CONFIG arrives. */
		ram_receiver_free(&in->ram);
		vm_destroy(in->vm);
		in->vm = NULL;
	}
}

static int receive_setup(struct incoming *in, const struct vm_config *cfg)
{
	struct rbuf r;
	int ret = mig_expect(&in->s, MIG_HELLO);

	ret = ret ?: mig_expect(&in->s, MIG_CONFIG);
	if (ret)
		return ret;
	rbuf_init(&r, in->s.payload, in->s.len);
	ret = check_config(in, cfg, &r);
	if (ret)
		return ret;
	if (!in->vm)
		ret = build_vm(in);
	if (ret)
		return mig_stream_fail(&in->s, ret,
				       "cannot create the VM here: %s",
				       strerror(-ret));
	{
		char why[256] = "";

		ret = windows_apply(vm_mem(in->vm), &r, why, sizeof(why));
		if (ret)
			return mig_stream_fail(&in->s, ret,
					       "incompatible machine: %s", why);
	}
	return mig_send_buf(&in->s, MIG_READY, NULL, 0);
}

static int receive_state(struct incoming *in)
{
	char why[256] = "";
	struct rbuf r;
	int ret;

	rbuf_init(&r, in->s.payload, in->s.len);
	ret = vm_state_load(in->vm, &r, why, sizeof(why));
	if (ret)
		return mig_stream_fail(&in->s, ret, "machine state: %s", why);
	return 0;
}

static int check_digest(struct incoming *in)
{
	struct rbuf r;
	uint64_t theirs, pages;

	rbuf_init(&r, in->s.payload, in->s.len);
	theirs = rbuf_get_u64(&r);
	pages = rbuf_get_u64(&r);
	if (r.err)
		return mig_stream_fail(&in->s, -EBADMSG, "malformed DIGEST");
	if (in->ram.digest != theirs || in->ram.nonzero_pages != pages)
		return mig_stream_fail(&in->s, -EBADMSG,
				       "memory digest mismatch: source %016llx over %llu pages, destination %016llx over %llu pages",
				       (unsigned long long)theirs,
				       (unsigned long long)pages,
				       (unsigned long long)in->ram.digest,
				       (unsigned long long)in->ram.nonzero_pages);
	in->verified = true;
	return 0;
}

/* Every frame before this PASS is applied: tell the source. */
static int pass_applied(struct incoming *in)
{
	uint8_t pass[4];

	int ret;

	if (in->s.len < 4)
		return mig_stream_fail(&in->s, -EBADMSG, "short PASS frame");
	ret = ram_recv_pass_end(&in->ram, &in->s);
	if (ret)
		return ret;
	memcpy(pass, in->s.payload, 4);
	in->passes++;
	return mig_send_buf(&in->s, MIG_SYNCED, pass, sizeof(pass));
}

/* Frames until the digest: memory, passes, state, then the digest. */
static int receive_body(struct incoming *in)
{
	bool have_state = false;
	int ret;

	for (;;) {
		ret = mig_recv(&in->s);
		if (ret)
			return ret;
		switch (in->s.type) {
		case MIG_RAM:
		case MIG_RAM_LIVE:
		case MIG_SPARSE:
			ret = ram_recv_frame(&in->ram, &in->s);
			break;
		case MIG_PASS:
			ret = pass_applied(in);
			break;
		case MIG_STATE:
			ret = have_state ? mig_stream_fail(&in->s, -EPROTO,
							   "second STATE frame")
					 : receive_state(in);
			have_state = true;
			break;
		case MIG_DIGEST:
			if (!have_state)
				return mig_stream_fail(&in->s, -EPROTO,
						       "DIGEST before STATE");
			return ram_recv_check_torn(&in->ram, &in->s) ?:
				       check_digest(in);
		default:
			return mig_stream_fail(&in->s, -EPROTO,
					       "unexpected %s frame",
					       mig_frame_name(in->s.type));
		}
		if (ret)
			return ret;
	}
}

static int receive_one(struct incoming *in, const struct vm_config *cfg)
{
	int ret = receive_setup(in, cfg);

	ret = ret ?: receive_body(in);
	in->total_ms = (clock_now_ns() - in->start_ns) / 1000000;
	return ret;
}

/* Drops a failed attempt: the VM it built and the connection. */
static void discard(struct incoming *in)
{
	ram_receiver_free(&in->ram);
	in->passes = 0;
	mig_send_error(&in->s, in->s.err, in->s.err_msg);
	vm_destroy(in->vm);
	in->vm = NULL;
	close(in->s.fd);
	mig_stream_free(&in->s);
}

/* "query-incoming": what the incoming migration brought. */
static int cmd_query_incoming(struct vm *vm, void *opaque,
			      const struct json_value *args, struct jw *reply,
			      char *err, size_t err_len)
{
	const struct incoming *in = opaque;

	jw_object_begin(reply, NULL);
	jw_string(reply, "status", "completed");
	jw_string(reply, "direction", "incoming");
	jw_string(reply, "source", in->peer);
	jw_u64(reply, "total_ms", in->total_ms);
	jw_u64(reply, "received_bytes", in->s.bytes_received);
	jw_u64(reply, "normal_pages", in->ram.normal_pages);
	jw_u64(reply, "sparse_pages", in->ram.sparse_pages);
	jw_u64(reply, "zero_pages", in->ram.zero_pages);
	/* Pages the guest wrote as they went, which came again. */
	jw_u64(reply, "torn_pages", in->ram.torn.total);
	jw_u64(reply, "passes", in->passes);
	jw_bool(reply, "verified", in->verified);
	jw_object_end(reply);
	return 0;
}

static int register_commands(struct control *c, void *opaque)
{
	return control_register(c, "query-incoming",
				"what the incoming migration received",
				cmd_query_incoming, opaque);
}

/*
 * Everything that can fail once the memory is verified, done before the
 * guest resumes here: a failure now is an ERROR the source resumes on,
 * where after the resume it would lose the guest. Microseconds.
 */
static int get_ready(struct incoming *in,
		     int (*prepare)(struct vm *vm, void *arg), void *arg)
{
	int ret;

	vm_on_started(in->vm, incoming_ack, in);
	ret = vm_add_control_commands(in->vm, register_commands, in);
	ret = ret ?: prepare(in->vm, arg);
	if (ret)
		return mig_stream_fail(&in->s, ret,
				       "cannot get ready to run the guest here: %s",
				       strerror(-ret));
	return 0;
}

int incoming_receive(const struct vm_config *cfg,
		     int (*prepare)(struct vm *vm, void *arg), void *arg,
		     struct incoming **in_out, struct vm **vm_out, char *err,
		     size_t err_len)
{
	struct incoming *in = calloc(1, sizeof(*in));
	struct mig_uri uri;
	sigset_t listen_mask;
	int lfd, ret;

	if (!in)
		return -ENOMEM;
	ret = mig_uri_parse(cfg->incoming_uri, &uri, err, err_len);
	lfd = ret ? ret : mig_listen(&uri, err, err_len);
	if (lfd < 0) {
		free(in);
		return lfd;
	}
	/* Creating a VM's vCPU threads blocks the stop signals in this
	 * thread (vm_run() takes them from a signalfd): a discarded attempt
	 * must not leave us deaf to SIGTERM and SIGINT while we wait. */
	pthread_sigmask(SIG_SETMASK, NULL, &listen_mask);
	log_info("waiting for a migration on %s", cfg->incoming_uri);
	for (;;) {
		int fd;

		prebuild_vm(in, cfg);
		pthread_sigmask(SIG_SETMASK, &listen_mask, NULL);
		fd = mig_accept(lfd, IO_TIMEOUT_MS, in->peer, sizeof(in->peer));

		if (fd < 0)
			continue;
		mig_stream_init(&in->s, fd);
		in->start_ns = clock_now_ns();
		if (receive_one(in, cfg) == 0 && get_ready(in, prepare, arg) == 0)
			break;
		log_err("incoming migration from %s failed: %s; discarded, waiting for the next",
			in->peer, mig_stream_error(&in->s));
		discard(in);
		pthread_sigmask(SIG_SETMASK, &listen_mask, NULL);
	}
	/* The memory is verified: the guest runs here from now on. Its
	 * prestarted vCPUs go first and the source hears it next; the rest
	 * (vm_run(), the control socket, the log line) is not downtime. */
	vm_resume(in->vm);
	if (mig_send_buf(&in->s, MIG_DONE, NULL, 0))
		log_err("could not tell the source that the guest runs here: %s",
			mig_stream_error(&in->s));
	close(lfd);
	*in_out = in;
	*vm_out = in->vm;
	return 0;
}

void incoming_ack(void *arg)
{
	struct incoming *in = arg;

	log_info("received the guest from %s in %llu ms: %llu pages (%llu sparse, %llu torn and sent again), %llu zero, memory verified; it runs here now",
		 in->peer, (unsigned long long)in->total_ms,
		 (unsigned long long)in->ram.normal_pages,
		 (unsigned long long)in->ram.sparse_pages,
		 (unsigned long long)in->ram.torn.total,
		 (unsigned long long)in->ram.zero_pages);
}

void incoming_free(struct incoming *in)
{
	if (!in)
		return;
	ram_receiver_free(&in->ram);
	if (in->s.fd > 0)
		close(in->s.fd);
	mig_stream_free(&in->s);
	free(in);
}
