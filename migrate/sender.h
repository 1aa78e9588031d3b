/* SPDX-License-Identifier: MIT */
/*
 * One outgoing migration's sender: its connection, RAM sender, dirty set,
 * throttle and digest job, set up and torn down here, and the frames that
 * end a pass, which both pre-copy (precopy.c) and stop-and-copy
 * (stop_copy.c) send. It reports how it goes into a mig_progress.
 */
#ifndef KVMTRACK_SENDER_H
#define KVMTRACK_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/digest_job.h"
#include "migrate/ram_send.h"
#include "migrate/stream.h"
#include "vmm/dirty/dirty.h"

struct mig_params;
struct mig_progress;
struct vm;
struct throttle;

struct sender {
	const struct mig_params *params;
	struct mig_progress *progress;
	struct vm *vm;
	struct mig_stream s;
	struct ram_sender rs;
	struct dirty_set set;
	bool attached;
	bool stopped_vm; /* we paused the vCPUs for stop-and-copy */
	/* DIGEST went out: from here the destination may resume the guest
	 * at any moment, and only its ERROR proves it did not. */
	bool digest_sent;
	bool have_digest_job;
	bool digest_job_called; /* handed to a vCPU by vm_pause_then() */
	struct digest_job digest_job;
	struct throttle *throttle;
	struct mig_tls *tls; /* the credentials, where params ask for TLS */
	uint64_t stop_ns;
	uint64_t written_pages; /* sent by the first pass: all written memory */
};

/*
 * With params, progress and vm set, the rest zero and s.fd -1: connects
 * to params->uri, describes the machine (HELLO, CONFIG), starts
 * dirty logging and waits for the destination's READY; then the progress
 * is ACTIVE. On failure the caller still calls sender_cleanup(); err says
 * why when the connection itself failed, else the stream's error does.
 */
int sender_setup(struct sender *sd, char *err, size_t err_len);
/* Undoes what sender_setup() did, however far it got. */
void sender_cleanup(struct sender *sd);

/* PASS, and the destination's SYNCED for it (see proto.h). */
int sender_pass_frame(struct sender *sd, unsigned int pass);
int sender_expect_synced(struct sender *sd, unsigned int pass);

#endif
