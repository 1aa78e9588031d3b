/* SPDX-License-Identifier: MIT */
/* Running real kvmtrack (and QEMU) processes from Criterion tests. */
#ifndef KVMTRACK_TESTS_HELPERS_H
#define KVMTRACK_TESTS_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct proc_result {
	int status; /* exit status, or 128 + signal */
	bool timed_out;
	char *out; /* everything written to stdout, NUL-terminated */
	char *err; /* everything written to stderr */
};

/* Runs argv (NULL-terminated) to completion, killing it after timeout_s. */
int run_cmd(const char *const argv[], int timeout_s, struct proc_result *r);
void proc_result_free(struct proc_result *r);

/* A process left running in the background, output going to files. */
struct bg_proc {
	pid_t pid;
	char out_path[64];
	char err_path[64];
};

int bg_start(const char *const argv[], struct bg_proc *p);
/* Waits up to timeout_s; kills it after that. Returns like proc_result. */
int bg_wait(struct bg_proc *p, int timeout_s, struct proc_result *r);
/* Waits until `needle` appears in the process's stdout or timeout_ms. */
bool bg_wait_output(struct bg_proc *p, const char *needle, int timeout_ms);
/* Waits until a unix socket at path accepts connections. */
bool wait_for_socket(const char *path, int timeout_ms);

/* A file under /tmp with the given bytes; path is written to path_out. */
int write_temp_file(const void *data, size_t len, char *path_out,
		    size_t path_len);
char *read_file(const char *path, size_t *len);
/* Number of non-overlapping occurrences of needle in haystack. */
int count_substr(const char *haystack, const char *needle);

/* Whether this host's KVM is kvm_amd, which resets a vCPU on a triple
 * fault before reporting it (shared/KVM-HERE.md). */
bool kvm_resets_vcpu_on_shutdown(void);

struct json_value;

/* Runs `kvmtrack dirtyrate --control SOCK ARGS...` (60 s at most). */
struct proc_result run_dirtyrate(const char *sock, const char *const *args);
/* The same with --json among ARGS, which must succeed: its parsed output
 * (json_free it). */
struct json_value *dirtyrate_json(const char *sock, const char *const *args);
/* obj's number `key`, which must be there. */
double json_num(const struct json_value *obj, const char *key);

#define KVMTRACK_BIN "./kvmtrack"
#define GUEST_ELF "guest/kvmtrack-guest.elf"

#endif
