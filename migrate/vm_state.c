// SPDX-License-Identifier: MIT
/*
 * The machine-state stream (vm_state.h), written: each section framed as
 * name, version and length, its body from the codecs (vcpu_codec.h,
 * platform_codec.h) or the device's own hook. What KVM holds is read
 * through kvm/'s snapshots (vcpu_snapshot.h, platform_snapshot.h), the
 * devices through vm.h's accessors. The stream is checked by
 * vm_state_parse.c and loaded by vm_state_load.c.
 */
#include "migrate/vm_state.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "kvm/platform_snapshot.h"
#include "kvm/vcpu_snapshot.h"
#include "lib/log.h"
#include "migrate/platform_codec.h"
#include "migrate/vcpu_codec.h"
#include "vmm/device.h"
#include "vmm/fdt.h"
#include "vmm/mem/memory.h"
#include "vmm/vm.h"

static size_t section_begin(struct wbuf *w, const char *name, uint32_t version)
{
	wbuf_put_str(w, name);
	wbuf_put_u32(w, version);
	return wbuf_begin_len(w);
}

static void save_machine(struct vm *vm, struct wbuf *w)
{
	size_t at = section_begin(w, VM_STATE_SEC_MACHINE, VM_STATE_VERSION);

	wbuf_put_u32(w, vm_nr_vcpus(vm));
	wbuf_put_u64(w, vm_mem(vm)->ram_bytes);
	wbuf_end_len(w, at);
}

/*
 * What this host's KVM can save: the readable MSRs (probing them costs
 * ~40 ioctls) and the optional capabilities. The same for every VM of the
 * process, so found once, before a migration stops its guest.
 */
static struct {
	pthread_mutex_t lock;
	bool ready;
	struct vcpu_caps caps;
	struct msr_list msrs;
} host_state = { .lock = PTHREAD_MUTEX_INITIALIZER };

int vm_state_prepare(struct vm *vm)
{
	int ret = 0;

	pthread_mutex_lock(&host_state.lock);
	if (!host_state.ready) {
		vcpu_caps_probe(vm_kvm_fd(vm), &host_state.caps);
		ret = msr_list_build(vm_kvm_sys(vm), vm_kvm_vcpu(vm, 0),
				     &host_state.msrs);
		/* No more than a destination's decoder accepts. */
		if (!ret && host_state.msrs.count > VM_STATE_MAX_MSRS) {
			msr_list_free(&host_state.msrs);
			ret = -E2BIG;
		}
		host_state.ready = ret == 0;
	}
	pthread_mutex_unlock(&host_state.lock);
	if (ret < 0)
		log_err("vm state: cannot list the MSRs to save: %s",
			strerror(-ret));
	return ret;
}

static int save_vcpus(struct vm *vm, struct wbuf *w)
{
	const struct vcpu_caps *caps = &host_state.caps;
	const struct msr_list *msrs = &host_state.msrs;
	int ret = vm_state_prepare(vm);

	for (unsigned int i = 0; i < vm_nr_vcpus(vm) && !ret; i++) {
		struct vcpu_snapshot s;
		size_t at;

		ret = vcpu_snapshot_get(vm_kvm_vcpu(vm, i), caps, msrs, &s);
		if (!ret) {
			at = section_begin(w, VM_STATE_SEC_VCPU,
					   VM_STATE_VERSION);
			vcpu_snapshot_encode(&s, w);
			wbuf_end_len(w, at);
		} else {
			log_err("vm state: cannot read vcpu %u: %s", i,
				strerror(-ret));
		}
		vcpu_snapshot_free(&s);
	}
	return ret;
}

static int save_platform(struct vm *vm, struct wbuf *w)
{
	struct platform_snapshot p;
	size_t at;
	int ret;

	ret = irqchip_get(vm_kvm_fd(vm), &p);
	ret = ret ?: pit_get(vm_kvm_fd(vm), &p);
	ret = ret ?: clock_get(vm_kvm_fd(vm), &p);
	if (ret < 0) {
		log_err("vm state: cannot read the irqchip, PIT or clock: %s",
			strerror(-ret));
		return ret;
	}
	at = section_begin(w, VM_STATE_SEC_IRQCHIP, VM_STATE_VERSION);
	irqchip_encode(&p, w);
	wbuf_end_len(w, at);
	at = section_begin(w, VM_STATE_SEC_PIT, VM_STATE_VERSION);
	pit_encode(&p, w);
	wbuf_end_len(w, at);
	at = section_begin(w, VM_STATE_SEC_CLOCK, VM_STATE_VERSION);
	clock_encode(&p, w);
	wbuf_end_len(w, at);
	return 0;
}

static int save_devices(struct vm *vm, struct wbuf *w)
{
	for (unsigned int i = 0; i < vm_nr_devices(vm); i++) {
		const struct fdt_device *d = vm_device(vm, i);
		char name[VM_STATE_NAME_MAX];
		size_t at;
		int ret;

		if (!d->ops->save)
			continue;
		snprintf(name, sizeof(name), VM_STATE_DEVICE_PREFIX "%s",
			 d->ops->name);
		at = section_begin(w, name, d->ops->state_version);
		ret = d->ops->save(d->state, w);
		if (ret < 0) {
			log_err("vm state: device %s: %s", d->ops->name,
				strerror(-ret));
			return ret;
		}
		wbuf_end_len(w, at);
	}
	return 0;
}

int vm_state_save(struct vm *vm, struct wbuf *w)
{
	enum vm_state state = vm_get_state(vm);
	int ret;

	if (state != VM_PAUSED && state != VM_CREATED) {
		log_err("vm state: cannot save a VM that is %s",
			vm_state_name(state));
		return -EBUSY;
	}
	save_machine(vm, w);
	ret = save_vcpus(vm, w);
	ret = ret ?: save_platform(vm, w);
	ret = ret ?: save_devices(vm, w);
	if (!ret)
		wbuf_end_len(w, section_begin(w, VM_STATE_SEC_END,
					      VM_STATE_VERSION));
	if (!ret && w->err)
		log_err("vm state: %s", strerror(-w->err));
	return ret ?: w->err;
}
