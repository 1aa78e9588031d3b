/* SPDX-License-Identifier: MIT */
/*
 * The run state of a VM's vCPU threads: created, running, paused or
 * stopped, the handshake that parks them while paused, the kick that gets
 * them out of KVM_RUN, and the one stop request that ends the run. vm.c
 * drives it from outside (vm.h), vcpu.c from the vCPU threads.
 */
#ifndef KVMTRACK_RUNSTATE_H
#define KVMTRACK_RUNSTATE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

struct runstate;
struct kvm_run;
struct kvm_vcpu;

enum vm_state { VM_CREATED, VM_RUNNING, VM_PAUSED, VM_STOPPED };

/* Why the VM stopped; decides kvmtrack's exit status and last line. */
enum vm_stop_reason {
	VM_STOP_NONE,
	VM_STOP_GUEST_EXIT, /* debug-exit port: status is the guest's value */
	VM_STOP_SIGNAL, /* SIGINT/SIGTERM: status 128 + signo */
	VM_STOP_QUIT, /* control "quit": status 0 */
	VM_STOP_UNEXPECTED, /* unexpected exit, reported: status 3 */
	VM_STOP_ERROR, /* kvmtrack's own failure: status 1 */
	VM_STOP_MIGRATED, /* the guest now runs elsewhere: status 0 */
	VM_STOP_GUEST_PANIC, /* the guest kernel panicked (pvpanic): status 4 */
};

/*
 * A vCPU thread as the run state reaches it, to kick it out of KVM_RUN.
 * Embedded in its vCPU (vcpu.c fills it), listed by runstate_add_thread().
 */
struct runstate_thread {
	struct kvm_vcpu *kvm;
	pthread_t id;
	bool started;
};

/* A new run state, VM_CREATED, with its stop eventfd; 0 or -errno. */
int runstate_create(struct runstate **out);
/* Frees it once no thread uses it. NULL is fine. */
void runstate_destroy(struct runstate *rs);
/* Lists a vCPU thread: pauses wait for it, stops and pauses kick it. */
void runstate_add_thread(struct runstate *rs, struct runstate_thread *t);

/*
 * Signals. The kick is SIGUSR1, with a handler that only interrupts
 * KVM_RUN; runstate_block_signals() blocks it with SIGINT and SIGTERM in
 * the calling thread, whose mask the vCPU threads inherit (the stop
 * signals then wait in *set for the main thread's signalfd), and ignores
 * SIGPIPE; each vCPU thread unblocks the kick with runstate_thread_init().
 */
int runstate_signals_init(void);
int runstate_block_signals(sigset_t *set);
void runstate_thread_init(void);

/* VM_CREATED becomes `initial` (VM_RUNNING or VM_PAUSED), before the
 * vCPU threads exist; a later state is left as it is. */
void runstate_start(struct runstate *rs, enum vm_state initial);

/* vm_request_stop(), vm_pause_then(), vm_expect_resume() and
 * vm_resume() in vm.h say what these do. */
void runstate_request_stop(struct runstate *rs, enum vm_stop_reason reason,
			   int status, const char *why);
int runstate_pause_then(struct runstate *rs, void (*fn)(void *arg), void *arg,
			bool *called);
void runstate_expect_resume(struct runstate *rs);
int runstate_resume(struct runstate *rs);

/*
 * The vCPU threads' side. runstate_wait_runnable() calls settle(arg) before
 * the vCPU counts as parked, so that a vCPU leaves no instruction half
 * done in a state that pause's caller may save (vcpu.c completes a port or
 * MMIO access there). runstate_wait_runnable() blocks while the VM is
 * paused and says whether to enter KVM_RUN (false: the VM is stopping);
 * `run` is the caller's, whose kick it clears. runstate_request_pause()
 * pauses from a vCPU's own exit, without waiting for the others to park.
 */
bool runstate_wait_runnable(struct runstate *rs, struct kvm_run *run,
			    void (*settle)(void *arg), void *arg);
void runstate_request_pause(struct runstate *rs);

enum vm_state runstate_state(const struct runstate *rs);
bool runstate_has_run(const struct runstate *rs);
/* An eventfd that becomes readable once, when the VM stops. */
int runstate_stop_fd(const struct runstate *rs);
/* Once stopped: kvmtrack's exit status, and *why the last line. */
int runstate_stop_status(const struct runstate *rs, const char **why);
const char *vm_state_name(enum vm_state state);

#endif
