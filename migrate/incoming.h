/* SPDX-License-Identifier: MIT */
/*
 * The destination of a live migration (`kvmtrack run --incoming URI`):
 * waits for a source, checks that its machine is compatible before taking
 * any memory, receives memory and state, verifies the memory digest, and
 * hands back a VM ready to run. A failed attempt is discarded whole and the
 * destination waits for the next one, so a migration can be retried.
 */
#ifndef KVMTRACK_INCOMING_H
#define KVMTRACK_INCOMING_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct vm_config;
struct incoming;
struct control;

/*
 * Listens on cfg->incoming_uri and returns the first migration that
 * arrives whole: *vm_out is created, loaded and verified, and its vCPUs
 * already run (vm_run() finds them running), the source told so (DONE).
 * Returns -errno only when listening itself fails (err says why).
 */
int incoming_receive(const struct vm_config *cfg, struct incoming **in_out,
		     struct vm **vm_out, char *err, size_t err_len);

/* Logs what arrived, once the guest runs here (pass to vm_on_started()). */
void incoming_ack(void *in);

/* "query-migrate" on the destination: what was received. opaque = in. */
int incoming_register_commands(struct control *c, void *opaque);

void incoming_free(struct incoming *in);

#endif
