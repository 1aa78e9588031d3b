/* SPDX-License-Identifier: MIT */
/* Two real kvmtrack processes and a migration between them, for e2e tests. */
#ifndef KVMTRACK_TESTS_MIGRATE_HELPERS_H
#define KVMTRACK_TESTS_MIGRATE_HELPERS_H

#include "tests/helpers.h"

struct mig_host {
	struct bg_proc proc;
	char sock[64]; /* control socket */
	char serial[64]; /* the guest's console, a file */
	int port; /* --incoming port, 0 for a booted source */
};

/* A free-ish TCP port for this test process (varies with the pid). */
int mig_test_port(int n);
/* Boots the bundled guest with a control socket and a serial file. */
void mig_boot(struct mig_host *h, const char *name, const char *cpus,
	      const char *cmdline);
/* Starts `kvmtrack run --incoming tcp:127.0.0.1:PORT`. */
void mig_listen(struct mig_host *h, const char *name, int port);
/* Runs `kvmtrack migrate ... --json`; extra: NULL or more options. */
struct proc_result mig_migrate(struct mig_host *src, int port,
			       const char *const *extra);
/* Highest heartbeat number in a host's serial file, or -1. */
long mig_last_heartbeat(const struct mig_host *h);
/* Waits until the host's serial file has a heartbeat above n. */
bool mig_wait_heartbeat(const struct mig_host *h, long n, int timeout_ms);
/* A numeric field of the migrate --json output, or -1. */
long long mig_json_field(const char *json, const char *key);

#endif
