// SPDX-License-Identifier: MIT
/* Receiving a live migration (see incoming.h). */
#include "migrate/incoming.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/control.h"
#include "lib/clock.h"
#include "lib/json/json.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "migrate/proto.h"
#include "migrate/receive.h"
#include "migrate/stream.h"
#include "migrate/tls.h"
#include "migrate/transport.h"
#include "migrate/vm_state.h"
#include "vmm/mem/memory.h"
#include "vmm/vm.h"
#include "vmm/vm_config.h"

#define IO_TIMEOUT_MS 10000

struct incoming {
	struct mig_receive rx; /* the protocol, and what arrived */
	char peer[128];
	struct mig_tls *tls; /* --tls-creds or --tls-psk, else NULL */
	struct vm *vm;
	uint64_t start_ns;
	uint64_t total_ms;
};

/* The VM and its digest terms, for cfg; vCPU threads wait paused. */
static int build_vm(void *arg, const struct vm_config *cfg,
		    struct guest_mem **mem)
{
	struct incoming *in = arg;
	int ret = vm_create(cfg, &in->vm);

	/* Found while no vCPU runs: see vm_state_prepare(). */
	if (!ret)
		vm_state_prepare(in->vm);
	ret = ret ?: vm_prestart(in->vm);
	if (!ret)
		*mem = vm_mem(in->vm);
	return ret;
}

static int load_state(void *arg, struct rbuf *r, char *why, size_t len)
{
	struct incoming *in = arg;

	return vm_state_load(in->vm, r, why, len);
}

static const struct mig_receive_ops receive_ops = {
	.build = build_vm,
	.load_state = load_state,
};

/*
 * Started with -m and -c, as QEMU's destination is started with the
 * source's options, the machine is known before the source speaks: it is
 * built while waiting (creating a 1 GiB memslot alone takes ~6 ms here),
 * and CONFIG only has to match it. Its boot arguments are the source's,
 * read into rx.cmdline when CONFIG arrives.
 */
static void prebuild_vm(struct incoming *in, const struct vm_config *cfg)
{
	struct mig_receive *rx = &in->rx;
	int ret;

	if (in->vm || !cfg->mem_explicit || !cfg->cpus_explicit)
		return;
	rx->cfg = *cfg;
	rx->cmdline[0] = '\0';
	rx->cfg.cmdline = rx->cmdline;
	rx->cfg.image_path = NULL;
	ret = build_vm(in, &rx->cfg, &rx->mem);
	ret = ret ?: ram_receiver_init(&rx->ram, rx->mem);
	if (ret) {
		/* Not fatal: it is built again when CONFIG arrives. */
		ram_receiver_free(&rx->ram);
		vm_destroy(in->vm);
		in->vm = NULL;
		rx->mem = NULL;
	}
}

static int receive_one(struct incoming *in, const struct vm_config *cfg)
{
	int ret = mig_receive(&in->rx, cfg, &receive_ops, in);

	in->total_ms = (clock_now_ns() - in->start_ns) / 1000000;
	return ret;
}

/* Drops a failed attempt: the VM it built and the connection. */
static void discard(struct incoming *in)
{
	ram_receiver_free(&in->rx.ram);
	in->rx.passes = 0;
	in->rx.verified = false;
	mig_send_error(&in->rx.s, in->rx.s.err, in->rx.s.err_msg);
	mig_shutdown(in->rx.s.fd);
	vm_destroy(in->vm);
	in->vm = NULL;
	in->rx.mem = NULL;
	close(in->rx.s.fd);
	mig_stream_free(&in->rx.s);
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
	jw_u64(reply, "received_bytes", in->rx.s.bytes_received);
	jw_u64(reply, "normal_pages", in->rx.ram.normal_pages);
	jw_u64(reply, "sparse_pages", in->rx.ram.sparse_pages);
	jw_u64(reply, "zero_pages", in->rx.ram.zero_pages);
	/* Pages the guest wrote as they went, which came again. */
	jw_u64(reply, "torn_pages", in->rx.ram.torn.total);
	jw_u64(reply, "passes", in->rx.passes);
	jw_bool(reply, "verified", in->rx.verified);
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
		return mig_stream_fail(&in->rx.s, ret,
				       "cannot get ready to run the guest here: %s",
				       strerror(-ret));
	return 0;
}

/* The credentials, loaded before we listen: a typo fails the start. */
static int load_tls(struct incoming *in, const struct vm_config *cfg,
		    char *err, size_t err_len)
{
	struct mig_tls_opts o;
	int ret = mig_tls_opts_set(&o, cfg->tls_creds, cfg->tls_psk,
				   cfg->tls_authz, cfg->nr_tls_authz, err,
				   err_len);

	if (ret || !mig_tls_wanted(&o))
		return ret;
	return mig_tls_load(&o, true, &in->tls, err, err_len);
}

/*
 * The handshake, before the first frame. A refused source is one more
 * discarded attempt; one that runs without TLS hears why in the only
 * words it understands, a plain ERROR frame.
 */
static int secure(struct incoming *in)
{
	char how[256];
	int ret = mig_stream_arm(&in->rx.s);

	if (ret)
		snprintf(how, sizeof(how), "%s", mig_stream_error(&in->rx.s));
	else
		ret = mig_tls_handshake(in->tls, in->rx.s.fd, NULL,
					&in->rx.s.tls_io, how, sizeof(how));
	if (!ret) {
		in->rx.s.tls = true;
		log_info("migration channel from %s: %s", in->peer, how);
		return 0;
	}
	/* The handshake's whole wait was what the opening's deadline left. */
	if (ret == -ETIMEDOUT)
		snprintf(how, sizeof(how),
			 MIG_OPENING_TOO_SLOW " (the TLS handshake unfinished)",
			 IO_TIMEOUT_MS / 1000);
	log_err("incoming migration from %s refused: TLS: %s; waiting for the next",
		in->peer, how);
	if (ret == -EPROTO) {
		mig_send_error(&in->rx.s, -EACCES,
			       "this destination takes TLS only: migrate with --tls-creds or --tls-psk");
		mig_shutdown(in->rx.s.fd);
	}
	close(in->rx.s.fd);
	mig_stream_free(&in->rx.s);
	return ret;
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
	ret = ret ?: load_tls(in, cfg, err, err_len);
	lfd = ret ? ret : mig_listen_socket(&uri, err, err_len);
	if (lfd < 0) {
		incoming_free(in);
		return lfd;
	}
	if (!in->tls && !mig_listen_is_loopback(lfd))
		log_err("warning: the migration stream on %s is not authenticated nor encrypted: whoever reaches it can hand this kvmtrack a guest, and read or alter guest memory on the way",
			cfg->incoming_uri);
	/* Creating a VM's vCPU threads blocks the stop signals in this
	 * thread (vm_run() takes them from a signalfd): a discarded attempt
	 * must not leave us deaf to SIGTERM and SIGINT while we wait. */
	pthread_sigmask(SIG_SETMASK, NULL, &listen_mask);
	log_info("waiting for a migration on %s%s%s", cfg->incoming_uri,
		 in->tls ? ", TLS with " : "", in->tls ? mig_tls_kind(in->tls) : "");
	for (;;) {
		int fd;

		prebuild_vm(in, cfg);
		pthread_sigmask(SIG_SETMASK, &listen_mask, NULL);
		fd = mig_accept(lfd, IO_TIMEOUT_MS, in->peer, sizeof(in->peer));

		if (fd < 0)
			continue;
		mig_stream_init(&in->rx.s, fd);
		/* From here, and for each frame: see mig_stream_deadlines(). */
		mig_stream_deadlines(&in->rx.s, IO_TIMEOUT_MS);
		if (in->tls && secure(in))
			continue;
		in->start_ns = clock_now_ns();
		if (receive_one(in, cfg) == 0 && get_ready(in, prepare, arg) == 0)
			break;
		/* Said once it is so: the attempt thrown away and the VM for
		 * the next built (the error outlives the stream's clean-up). */
		discard(in);
		prebuild_vm(in, cfg);
		log_err("incoming migration from %s failed: %s; discarded, waiting for the next",
			in->peer, mig_stream_error(&in->rx.s));
		pthread_sigmask(SIG_SETMASK, &listen_mask, NULL);
	}
	/* The memory is verified: the guest runs here from now on. Its
	 * prestarted vCPUs go first and the source hears it next; the rest
	 * (vm_run(), the control socket, the log line) is not downtime. */
	vm_resume(in->vm);
	if (mig_send_buf(&in->rx.s, MIG_DONE, NULL, 0))
		log_err("could not tell the source that the guest runs here: %s",
			mig_stream_error(&in->rx.s));
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
		 (unsigned long long)in->rx.ram.normal_pages,
		 (unsigned long long)in->rx.ram.sparse_pages,
		 (unsigned long long)in->rx.ram.torn.total,
		 (unsigned long long)in->rx.ram.zero_pages);
}

void incoming_free(struct incoming *in)
{
	if (!in)
		return;
	ram_receiver_free(&in->rx.ram);
	if (in->rx.s.fd > 0)
		close(in->rx.s.fd);
	mig_stream_free(&in->rx.s);
	mig_tls_free(in->tls);
	free(in);
}
