/* SPDX-License-Identifier: MIT */
/*
 * The virtual machine: owns the KVM VM fd, guest memory, the bus, the devices
 * and the vCPU threads. Devices and the control socket use only this API.
 * Its states and the reasons it stops are runstate.h's (enum vm_state,
 * enum vm_stop_reason, vm_state_name).
 */
#ifndef KVMTRACK_VM_H
#define KVMTRACK_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/runstate.h"
#include "vmm/vm_config.h"

struct vm;
struct bus;
struct guest_mem;
struct jw;
struct dirty_tracker;
struct control;
struct kvm_sys;
struct kvm_vcpu;
struct fdt_device;
struct device_ops;

/*
 * Creates the VM for cfg: KVM objects, memory, devices and vCPUs, in the
 * order KVM requires. Returns 0 and *out, or -errno having logged why.
 */
int vm_create(const struct vm_config *cfg, struct vm **out);

/*
 * Loads the image named in the config, builds the device tree and start
 * info and sets every vCPU's entry state. err names the cause on failure.
 */
int vm_boot(struct vm *vm, char *err, size_t err_len);

/*
 * Runs the vCPUs until the VM stops (guest exit, signal, quit, error),
 * then prints the reason as the last line. Returns kvmtrack's exit status.
 */
int vm_run(struct vm *vm);

/* The machine's device tree, as handed to the guest at boot; 0 or -errno. */
int vm_build_fdt(struct vm *vm, void *buf, size_t len);

/* Called once by vm_run right after the vCPUs started (a migration's
 * destination acknowledges then). */
void vm_on_started(struct vm *vm, void (*fn)(void *arg), void *arg);

/* More control commands: fn(control, opaque) runs when the control socket
 * starts. At most VM_MAX_CONTROL_GROUPS groups (a destination's: its own,
 * and a running VM's migration, dirty-rate, test-device and checkpoint
 * commands); -ENOSPC beyond. */
#define VM_MAX_CONTROL_GROUPS 8
int vm_add_control_commands(struct vm *vm,
			    int (*fn)(struct control *c, void *opaque),
			    void *opaque);

/*
 * The steps of vm_run(), which runs them from vm_run.c with the signals and
 * the control socket around them: let the vCPUs run (vm_start: start their
 * threads, or release those that vm_prestart() created, then call the
 * vm_on_started() function; 0 or -errno), register the
 * vm_add_control_commands() groups on the control object, and once the VM
 * stopped (vm_stop_fd() is readable) join the vCPU threads (vm_join) and
 * read the exit status and the line that says why (vm_stop_status).
 */
int vm_start(struct vm *vm);
int vm_register_added_commands(struct vm *vm, struct control *c);
int vm_stop_fd(const struct vm *vm);
void vm_join(struct vm *vm);
int vm_stop_status(const struct vm *vm, const char **why);

/*
 * Creates the vCPU threads ahead of vm_run(), waiting as if paused, so that
 * vm_run() only has to release them: a migration destination does this
 * before the final pages arrive, to keep thread creation out of downtime.
 * vm_resume() releases them too, before vm_run() if need be (a destination
 * resumes the guest as soon as its memory is verified); vm_run() then finds
 * them running.
 */
int vm_prestart(struct vm *vm);

/* Joins everything the VM started and frees it. NULL is fine. */
void vm_destroy(struct vm *vm);

struct bus *vm_bus(struct vm *vm);
struct dirty_tracker *vm_dirty(struct vm *vm);
unsigned int vm_nr_vcpus(const struct vm *vm);
/* For the machine-state stream (migrate/vm_state.c), which saves and loads
 * what KVM holds for the VM and its vCPUs, and the devices' state. */
int vm_kvm_fd(const struct vm *vm);
const struct kvm_sys *vm_kvm_sys(const struct vm *vm);
struct kvm_vcpu *vm_kvm_vcpu(struct vm *vm, unsigned int i);
unsigned int vm_nr_devices(const struct vm *vm);
const struct fdt_device *vm_device(const struct vm *vm, unsigned int i);
/* The state of the VM's device built from ops, or NULL if it has none. */
void *vm_device_state(const struct vm *vm, const struct device_ops *ops);
/* The guest's TSC rate, known once vm_boot() measured it (0 before). */
uint32_t vm_tsc_khz(const struct vm *vm);
struct guest_mem *vm_mem(struct vm *vm);
const struct vm_config *vm_config(const struct vm *vm);

/* Raises (level 1) or lowers (level 0) a GSI on the in-kernel irqchip. */
int vm_irq_line(struct vm *vm, uint32_t gsi, int level);

/*
 * Asks the VM to stop. The first request wins; later ones are ignored.
 * `why` is copied and printed as the last line. Safe from any thread and
 * from a vCPU's own exit handler (it kicks every vCPU out of KVM_RUN).
 */
void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int status,
		     const char *why);

/* Pause and resume all vCPUs; both wait until the vCPUs have complied. */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);

/*
 * vm_pause(), and then the vCPU thread that parks last calls fn(arg)
 * before it sleeps: work that needs every vCPU out of KVM_RUN starts at
 * once on the CPU the guest just left, with no thread to wake (a wake-up
 * costs tens to hundreds of microseconds on the nested development hosts,
 * and the new thread tends to land on the caller's CPU). *called says
 * whether a vCPU thread took fn (it may still be running when this
 * returns, and the caller must wait for it by its own means); when false,
 * fn is not called at all, e.g. when the VM was not running.
 */
int vm_pause_then(struct vm *vm, void (*fn)(void *arg), void *arg,
		  bool *called);

/*
 * Says that a paused VM will be resumed within milliseconds (a migration
 * destination that is loading the state): its vCPU threads wake now and
 * poll for the resume for a while (yielding the CPU), so that the resume
 * does not wait for them to wake. A no-op on a VM that is not paused.
 */
void vm_expect_resume(struct vm *vm);

/*
 * Guest memory put in place after the guest started (a lazy restore):
 * vm_mem_filling(vm, true) before it runs, false once every page is in.
 * Whoever reads all of guest memory (a migration, a checkpoint) calls
 * vm_mem_wait_filled() first, since a page not in place yet would read
 * as a hole; it returns whether it had to wait.
 */
void vm_mem_filling(struct vm *vm, bool filling);
bool vm_mem_wait_filled(struct vm *vm);
enum vm_state vm_get_state(const struct vm *vm);
/* True once the vCPUs were ever let run (vm_prestart alone does not). */
bool vm_has_run(const struct vm *vm);

/* Writes the members of the `stats` reply (exit counts, devices, ...). */
void vm_stats_json(struct vm *vm, struct jw *w);

#endif
