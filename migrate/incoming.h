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

/*
 * Listens on cfg->incoming_uri and returns the first migration that
 * arrives whole: *vm_out is created, loaded and verified, prepare(vm, arg)
 * has set up what the caller needs to run it (its control commands; a
 * failure fails the attempt, and the source keeps the guest), and its
 * vCPUs already run (vm_run() finds them running), the source told so
 * (DONE). incoming_ack() and the destination's own control command,
 * "query-incoming" (what arrived), are registered. Returns -errno only
 * when listening itself fails (err says why).
 */
int incoming_receive(const struct vm_config *cfg,
		     int (*prepare)(struct vm *vm, void *arg), void *arg,
		     struct incoming **in_out, struct vm **vm_out, char *err,
		     size_t err_len);

/* Logs what arrived, once the guest runs here (vm_on_started()). */
void incoming_ack(void *in);

void incoming_free(struct incoming *in);

#endif
