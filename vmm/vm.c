// SPDX-License-Identifier: MIT
/*
 * The VM: creation in the order KVM requires, its vCPU threads (their run
 * state is runstate.c's), the device tree and boot (which boot.c does with
 * what it is given) and the stats reply. Running the VM from the main
 * thread is vm_run.c's.
 */
#include "vmm/vm.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "lib/clock.h"
#include "lib/json/json.h"
#include "lib/log.h"
#include "vmm/alias/alias.h"
#include "vmm/boot/boot.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/x86_cpu.h"
#include "vmm/device.h"
#include "vmm/dirty/dirty.h"
#include "vmm/fdt.h"
#include "vmm/mem/bus.h"
#include "vmm/mem/memory.h"
#include "vmm/runstate.h"
#include "vmm/unclaimed.h"
#include "vmm/vcpu.h"

#define VM_MAX_DEVICES 8

struct vm {
	struct vm_config cfg;
	struct kvm_sys sys;
	int vm_fd;
	struct guest_mem mem;
	struct bus bus;
	struct vcpu vcpus[VM_MAX_CPUS];
	unsigned int nr_vcpus;
	struct fdt_device devices[VM_MAX_DEVICES];
	unsigned int nr_devices;
	uint32_t tsc_khz;
	struct {
		int (*fn)(struct control *c, void *opaque);
		void *opaque;
	} control_groups[VM_MAX_CONTROL_GROUPS];
	unsigned int nr_control_groups;
	bool threads_created; /* vm_prestart() */
	void (*on_started)(void *arg);
	void *on_started_arg;
	struct dirty_tracker *dirty;
	uint64_t start_ns; /* vm_start(), for the uptime in `stats` */
	struct runstate *rs;
	struct unclaimed unclaimed; /* port I/O and MMIO no device claims */
	/* vm_mem_filling(): guest memory is still being put in place */
	pthread_mutex_t fill_lock;
	pthread_cond_t fill_done;
	bool filling;
};

struct bus *vm_bus(struct vm *vm)
{
	return &vm->bus;
}

struct guest_mem *vm_mem(struct vm *vm)
{
	return &vm->mem;
}

const struct vm_config *vm_config(const struct vm *vm)
{
	return &vm->cfg;
}

struct dirty_tracker *vm_dirty(struct vm *vm)
{
	return vm->dirty;
}

unsigned int vm_nr_vcpus(const struct vm *vm)
{
	return vm->nr_vcpus;
}

int vm_kvm_fd(const struct vm *vm)
{
	return vm->vm_fd;
}

const struct kvm_sys *vm_kvm_sys(const struct vm *vm)
{
	return &vm->sys;
}

struct kvm_vcpu *vm_kvm_vcpu(struct vm *vm, unsigned int i)
{
	return i < vm->nr_vcpus ? &vm->vcpus[i].kvm : NULL;
}

unsigned int vm_nr_devices(const struct vm *vm)
{
	return vm->nr_devices;
}

const struct fdt_device *vm_device(const struct vm *vm, unsigned int i)
{
	return i < vm->nr_devices ? &vm->devices[i] : NULL;
}

void *vm_device_state(const struct vm *vm, const struct device_ops *ops)
{
	for (unsigned int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].ops == ops)
			return vm->devices[i].state;
	return NULL;
}

uint32_t vm_tsc_khz(const struct vm *vm)
{
	return vm->tsc_khz;
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	return kvm_irq_line(vm->vm_fd, gsi, level);
}

/* KVM objects that must exist before any vCPU: irqchip, PIT, VMX areas. */
static int vm_create_platform(struct vm *vm)
{
	int ret = kvm_set_tss_addr(vm->vm_fd, BOOT_KVM_TSS_GPA);

	ret = ret ?: kvm_set_identity_map_addr(vm->vm_fd, BOOT_KVM_IDMAP_GPA);
	ret = ret ?: kvm_create_irqchip(vm->vm_fd);
	/* The PIT needs the irqchip to deliver its interrupt. */
	ret = ret ?: kvm_create_pit2(vm->vm_fd);
	return ret;
}

static int vm_register_memory(struct vm *vm)
{
	int ret = guest_mem_create(&vm->mem, vm->cfg.mem_bytes);

	for (unsigned int i = 0; i < vm->mem.nr_slots && !ret; i++) {
		const struct mem_slot *s = &vm->mem.slots[i];

		ret = guest_mem_slot_commit(vm->vm_fd, s, s->flags, NULL);
	}
	return ret;
}

static int vm_create_devices(struct vm *vm)
{
	if (vm->cfg.nr_devices > VM_MAX_DEVICES) {
		log_err("%u devices asked for, at most %u", vm->cfg.nr_devices,
			VM_MAX_DEVICES);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < vm->cfg.nr_devices; i++) {
		const struct device_ops *ops = vm->cfg.devices[i];
		void *state = NULL;
		int ret = ops->init(vm, &state);

		if (ret < 0) {
			log_err("device %s: %s", ops->name, strerror(-ret));
			return ret;
		}
		vm->devices[vm->nr_devices++] =
			(struct fdt_device){ .ops = ops, .state = state };
	}
	return 0;
}

/* Before the vCPUs: a dirty ring must be enabled before KVM_CREATE_VCPU. */
static int vm_create_dirty_tracker(struct vm *vm)
{
	return dirty_tracker_create(&vm->sys, vm->vm_fd, &vm->mem,
				    &vm->cfg.dirty, &vm->dirty);
}

/* Read-only aliases and shared files (--alias, --share): after the
 * devices, whose MMIO ranges they must stay clear of. */
static int vm_create_windows(struct vm *vm)
{
	char err[512];
	int ret = alias_setup(&vm->mem, vm->vm_fd, vm->dirty, &vm->bus,
			      &vm->cfg.alias, err, sizeof(err));

	if (ret < 0)
		log_err("%s", err);
	return ret;
}

static int vm_create_vcpus(struct vm *vm)
{
	const struct vcpu_env env = {
		.rs = vm->rs,
		.bus = &vm->bus,
		.mem = &vm->mem,
		.dirty = vm->dirty,
		.unclaimed = &vm->unclaimed,
		.trace_exits = vm->cfg.trace_exits,
		.strict_io = vm->cfg.strict_io,
	};

	for (unsigned int i = 0; i < vm->cfg.nr_cpus; i++) {
		int ret = vcpu_init(&vm->vcpus[i], &env, &vm->sys, vm->vm_fd,
				    i);

		if (ret < 0)
			return ret;
		vm->nr_vcpus++;
		ret = dirty_tracker_add_vcpu(vm->dirty, i, &vm->vcpus[i].kvm);
		if (ret < 0)
			return ret;
		ret = x86_setup_cpuid(&vm->sys, &vm->vcpus[i].kvm,
				      vm->cfg.nr_cpus);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void vm_init_fields(struct vm *vm, const struct vm_config *cfg)
{
	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->sys.fd = -1;
	vm->vm_fd = -1;
	unclaimed_init(&vm->unclaimed);
	pthread_mutex_init(&vm->fill_lock, NULL);
	pthread_cond_init(&vm->fill_done, NULL);
}

void vm_mem_filling(struct vm *vm, bool filling)
{
	pthread_mutex_lock(&vm->fill_lock);
	vm->filling = filling;
	if (!filling)
		pthread_cond_broadcast(&vm->fill_done);
	pthread_mutex_unlock(&vm->fill_lock);
}

bool vm_mem_wait_filled(struct vm *vm)
{
	bool waited;

	pthread_mutex_lock(&vm->fill_lock);
	waited = vm->filling;
	while (vm->filling)
		pthread_cond_wait(&vm->fill_done, &vm->fill_lock);
	pthread_mutex_unlock(&vm->fill_lock);
	return waited;
}

int vm_create(const struct vm_config *cfg, struct vm **out)
{
	struct vm *vm = malloc(sizeof(*vm));
	int ret;

	if (!vm)
		return -ENOMEM;
	vm_init_fields(vm, cfg);
	ret = runstate_create(&vm->rs);
	ret = ret ?: kvm_sys_open(&vm->sys);
	if (!ret) {
		vm->vm_fd = kvm_vm_create(&vm->sys);
		ret = vm->vm_fd < 0 ? vm->vm_fd : 0;
	}
	ret = ret ?: vm_create_platform(vm);
	ret = ret ?: vm_register_memory(vm);
	ret = ret ?: vm_create_dirty_tracker(vm);
	ret = ret ?: vm_create_devices(vm);
	ret = ret ?: vm_create_windows(vm);
	ret = ret ?: vm_create_vcpus(vm);
	if (ret < 0) {
		vm_destroy(vm);
		return ret;
	}
	*out = vm;
	return 0;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	/* Threads started (perhaps paused, by vm_prestart) must end first. */
	if (vm->threads_created)
		vm_request_stop(vm, VM_STOP_ERROR, 1, "VM destroyed");
	vm_join(vm);
	/* Devices may own threads that call back into the VM: stop them
	 * first, in reverse order of creation. */
	for (unsigned int i = vm->nr_devices; i-- > 0;)
		vm->devices[i].ops->exit(vm->devices[i].state);
	/* The rings are mappings of the vCPU fds: unmap them first. */
	dirty_tracker_destroy(vm->dirty);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	/* The windows map into the RAM regions: they go first. */
	alias_table_destroy(&vm->mem);
	guest_mem_destroy(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	kvm_sys_close(&vm->sys);
	runstate_destroy(vm->rs);
	unclaimed_destroy(&vm->unclaimed);
	free(vm);
}

int vm_build_fdt(struct vm *vm, void *buf, size_t len)
{
	struct machine_desc desc = {
		.cfg = &vm->cfg,
		.mem = &vm->mem,
		.tsc_khz = vm->tsc_khz,
		.devices = vm->devices,
		.nr_devices = vm->nr_devices,
	};

	return fdt_build_machine(&desc, buf, len);
}

/* The guest's TSC rate, which the device tree tells it. */
static int vm_read_tsc_khz(struct vm *vm, char *err, size_t err_len)
{
	int ret = kvm_get_tsc_khz(&vm->vcpus[0].kvm);

	if (ret < 0) {
		snprintf(err, err_len, "cannot read the TSC frequency: %s",
			 strerror(-ret));
		return ret;
	}
	vm->tsc_khz = (uint32_t)ret;
	return 0;
}

int vm_boot(struct vm *vm, char *err, size_t err_len)
{
	static uint8_t fdt[BOOT_FDT_MAX_BYTES]; /* boot runs once, unthreaded */
	struct boot_config cfg = {
		.image_path = vm->cfg.image_path,
		.initrd_path = vm->cfg.initrd_path,
		.cmdline = vm->cfg.cmdline,
		.nr_vcpus = vm->nr_vcpus,
	};
	struct boot_image img;
	int ret;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		cfg.vcpus[i] = &vm->vcpus[i].kvm;
	ret = boot_load(&vm->mem, &cfg, &img, err, err_len);
	ret = ret ?: vm_read_tsc_khz(vm, err, err_len);
	if (ret < 0)
		return ret;
	ret = vm_build_fdt(vm, fdt, sizeof(fdt));
	if (ret < 0) {
		snprintf(err, err_len, "cannot build the device tree: %s",
			 strerror(-ret));
		return ret;
	}
	return boot_setup(&vm->mem, &cfg, &img, fdt, err, err_len);
}

/* Creates the vCPU threads, which run at once or wait while `initial` is
 * VM_PAUSED. The signal mask they inherit is set first. */
static int create_vcpu_threads(struct vm *vm, enum vm_state initial)
{
	sigset_t set;
	int ret = runstate_signals_init();

	ret = ret ?: runstate_block_signals(&set);
	if (ret)
		return ret;
	runstate_start(vm->rs, initial);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_start(&vm->vcpus[i]);
		if (ret < 0)
			return ret;
	}
	vm->threads_created = true;
	return 0;
}

int vm_prestart(struct vm *vm)
{
	return create_vcpu_threads(vm, VM_PAUSED);
}

/* A migration destination may have resumed its prestarted vCPUs already,
 * as soon as the memory was verified (incoming.c). */
static int start_vcpus(struct vm *vm)
{
	int ret;

	if (!vm->threads_created)
		return create_vcpu_threads(vm, VM_RUNNING);
	ret = vm_resume(vm);
	return ret == -EALREADY ? 0 : ret;
}

int vm_start(struct vm *vm)
{
	int ret;

	vm->start_ns = clock_now_ns();
	ret = start_vcpus(vm);
	if (!ret && vm->on_started)
		vm->on_started(vm->on_started_arg);
	return ret;
}

void vm_join(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
}

void vm_on_started(struct vm *vm, void (*fn)(void *arg), void *arg)
{
	vm->on_started = fn;
	vm->on_started_arg = arg;
}

int vm_add_control_commands(struct vm *vm,
			    int (*fn)(struct control *c, void *opaque),
			    void *opaque)
{
	if (vm->nr_control_groups == VM_MAX_CONTROL_GROUPS)
		return -ENOSPC;
	vm->control_groups[vm->nr_control_groups].fn = fn;
	vm->control_groups[vm->nr_control_groups++].opaque = opaque;
	return 0;
}

int vm_register_added_commands(struct vm *vm, struct control *c)
{
	int ret = 0;

	for (unsigned int i = 0; i < vm->nr_control_groups && !ret; i++)
		ret = vm->control_groups[i].fn(c, vm->control_groups[i].opaque);
	return ret;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int status,
		     const char *why)
{
	runstate_request_stop(vm->rs, reason, status, why);
}

int vm_pause_then(struct vm *vm, void (*fn)(void *arg), void *arg,
		  bool *called)
{
	return runstate_pause_then(vm->rs, fn, arg, called);
}

int vm_pause(struct vm *vm)
{
	return runstate_pause_then(vm->rs, NULL, NULL, NULL);
}

/* Only once the vCPU threads exist: they are the ones that poll. */
void vm_expect_resume(struct vm *vm)
{
	if (vm->threads_created)
		runstate_expect_resume(vm->rs);
}

int vm_resume(struct vm *vm)
{
	return runstate_resume(vm->rs);
}

bool vm_has_run(const struct vm *vm)
{
	return runstate_has_run(vm->rs);
}

enum vm_state vm_get_state(const struct vm *vm)
{
	return runstate_state(vm->rs);
}

int vm_stop_fd(const struct vm *vm)
{
	return runstate_stop_fd(vm->rs);
}

int vm_stop_status(const struct vm *vm, const char **why)
{
	return runstate_stop_status(vm->rs, why);
}

void vm_stats_json(struct vm *vm, struct jw *w)
{
	jw_string(w, "status", vm_state_name(vm_get_state(vm)));
	jw_u64(w, "uptime_ms", (clock_now_ns() - vm->start_ns) / 1000000);
	jw_u64(w, "mem_bytes", vm->cfg.mem_bytes);
	jw_object_begin(w, "dirty_log");
	jw_string(w, "backend",
		  dirty_backend_name(dirty_tracker_backend(vm->dirty)));
	jw_bool(w, "logging", dirty_tracker_logging(vm->dirty));
	jw_object_end(w);
	jw_array_begin(w, "vcpus");
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_stats_json(&vm->vcpus[i], w);
	jw_array_end(w);
	jw_object_begin(w, "devices");
	for (unsigned int i = 0; i < vm->nr_devices; i++) {
		const struct fdt_device *d = &vm->devices[i];

		if (!d->ops->stats)
			continue;
		jw_object_begin(w, d->ops->name);
		d->ops->stats(d->state, w);
		jw_object_end(w);
	}
	jw_object_end(w);
	unclaimed_stats_json(&vm->unclaimed, w);
}
