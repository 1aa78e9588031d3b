// SPDX-License-Identifier: MIT
/*
 * The machine-state stream (vm_state.h): section framing, the save, and
 * the parse that checks a whole stream before anything is loaded (the load
 * is vm_state_load.c). What KVM holds and the devices come through
 * vm.h's accessors.
 */
#include "migrate/vm_state.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/registry.h"
#include "migrate/vm_state_impl.h"
#include "lib/log.h"
#include "vmm/fdt.h"
#include "vmm/mem/memory.h"
#include "vmm/vm.h"

/* --- save ----------------------------------------------------------------- */

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

/* --- parse ---------------------------------------------------------------- */

struct parse_ctx {
	struct vm_state_parsed *p;
	bool have_machine, have_irqchip, have_pit, have_clock;
	char *err;
	size_t err_len;
};

#define PARSE_FAIL(ctx, code, ...)                                      \
	({                                                              \
		snprintf((ctx)->err, (ctx)->err_len, __VA_ARGS__);      \
		code;                                                   \
	})

static const struct device_ops *device_by_name(const char *name)
{
	for (unsigned int i = 0; i < device_table_len; i++) {
		const struct device_ops *ops = device_table[i];

		if (ops->save && ops->load && !strcmp(ops->name, name))
			return ops;
	}
	return NULL;
}

static int parse_device(struct parse_ctx *c, const char *name,
			uint32_t version, const struct rbuf *block)
{
	const char *dev = name + strlen(VM_STATE_DEVICE_PREFIX);
	const struct device_ops *ops = device_by_name(dev);
	struct vm_state_parsed *p = c->p;

	if (!ops)
		return PARSE_FAIL(c, -EINVAL,
				  "section '%s': no such device with state",
				  name);
	if (!version || version > ops->state_version)
		return PARSE_FAIL(c, -EINVAL,
				  "section '%s': version %u, this kvmtrack reads 1 to %u",
				  name, version, ops->state_version);
	for (unsigned int i = 0; i < p->nr_devices; i++)
		if (p->devices[i].ops == ops)
			return PARSE_FAIL(c, -EINVAL,
					  "section '%s' appears twice", name);
	if (p->nr_devices == VM_STATE_MAX_DEVICES)
		return PARSE_FAIL(c, -EINVAL, "section '%s': too many devices",
				  name);
	p->devices[p->nr_devices++] = (struct device_section){
		.ops = ops, .version = version, .block = *block,
	};
	return 0;
}

static int parse_machine(struct parse_ctx *c, struct rbuf *b)
{
	c->p->nr_vcpus = rbuf_get_u32(b);
	c->p->mem_bytes = rbuf_get_u64(b);
	if (b->err)
		return 0; /* reported as truncation by the caller */
	if (!c->p->nr_vcpus || c->p->nr_vcpus > VM_MAX_CPUS)
		return PARSE_FAIL(c, -EINVAL,
				  "section 'machine': nr_vcpus %u out of range 1-%u",
				  c->p->nr_vcpus, VM_MAX_CPUS);
	c->p->vcpus = calloc(c->p->nr_vcpus, sizeof(*c->p->vcpus));
	if (!c->p->vcpus)
		return PARSE_FAIL(c, -ENOMEM, "section 'machine': out of memory");
	c->have_machine = true;
	return 0;
}

static int parse_vcpu(struct parse_ctx *c, struct rbuf *b)
{
	struct vcpu_snapshot s;
	char why[160];
	int ret = vcpu_snapshot_decode(b, &s, why, sizeof(why));

	if (ret < 0) {
		vcpu_snapshot_free(&s);
		return PARSE_FAIL(c, ret, "section 'vcpu': %s", why);
	}
	if (s.index >= c->p->nr_vcpus || c->p->have_vcpu[s.index]) {
		vcpu_snapshot_free(&s);
		return PARSE_FAIL(c, -EINVAL, s.index >= c->p->nr_vcpus
				  ? "section 'vcpu': index %u, but the stream has %u vCPUs"
				  : "section 'vcpu': index %u appears twice",
				  s.index, c->p->nr_vcpus);
	}
	c->p->vcpus[s.index] = s;
	c->p->have_vcpu[s.index] = true;
	return 0;
}

/* Marks a once-only section seen; -EINVAL the second time. */
static int once(struct parse_ctx *c, bool *seen, const char *name)
{
	if (*seen)
		return PARSE_FAIL(c, -EINVAL, "section '%s' appears twice",
				  name);
	*seen = true;
	return 0;
}

static int parse_builtin(struct parse_ctx *c, const char *name,
			 uint32_t version, struct rbuf *b)
{
	struct platform_snapshot *plat = &c->p->platform;
	int ret;

	if (strcmp(name, VM_STATE_SEC_MACHINE) && strcmp(name, VM_STATE_SEC_VCPU) &&
	    strcmp(name, VM_STATE_SEC_IRQCHIP) && strcmp(name, VM_STATE_SEC_PIT) &&
	    strcmp(name, VM_STATE_SEC_CLOCK) && strcmp(name, VM_STATE_SEC_END))
		return PARSE_FAIL(c, -EINVAL, "unknown section '%s'", name);
	if (version != VM_STATE_VERSION)
		return PARSE_FAIL(c, -EINVAL,
				  "section '%s': version %u, this kvmtrack reads %u",
				  name, version, VM_STATE_VERSION);
	if (!strcmp(name, VM_STATE_SEC_MACHINE))
		return c->have_machine ? PARSE_FAIL(c, -EINVAL,
						    "section 'machine' appears twice")
				       : parse_machine(c, b);
	if (!c->have_machine)
		return PARSE_FAIL(c, -EINVAL,
				  "section '%s' before section 'machine'", name);
	if (!strcmp(name, VM_STATE_SEC_VCPU))
		return parse_vcpu(c, b);
	if (!strcmp(name, VM_STATE_SEC_IRQCHIP)) {
		ret = once(c, &c->have_irqchip, name);
		if (!ret)
			irqchip_decode(b, plat);
		return ret;
	}
	if (!strcmp(name, VM_STATE_SEC_PIT)) {
		ret = once(c, &c->have_pit, name);
		if (!ret)
			pit_decode(b, plat);
		return ret;
	}
	if (!strcmp(name, VM_STATE_SEC_CLOCK)) {
		char why[96];

		ret = once(c, &c->have_clock, name);
		if (!ret && clock_decode(b, plat, why, sizeof(why)) < 0)
			ret = PARSE_FAIL(c, -EINVAL, "section 'clock': %s", why);
		return ret;
	}
	return 0; /* "end" */
}

/* The name, version and block of the next section; false if r is short. */
static int next_section(struct parse_ctx *c, struct rbuf *r, char *name,
			uint32_t *version, struct rbuf *block,
			const char *prev)
{
	uint32_t len = rbuf_get_u32(r);

	if (!r->err && len >= VM_STATE_NAME_MAX)
		return PARSE_FAIL(c, -EINVAL,
				  "section name of %u bytes after section '%s'",
				  len, prev);
	rbuf_get_bytes(r, name, len < VM_STATE_NAME_MAX ? len : 0);
	name[len < VM_STATE_NAME_MAX ? len : 0] = '\0';
	if (r->err)
		return PARSE_FAIL(c, -EBADMSG,
				  "stream truncated in the name of the section after '%s'",
				  prev);
	*version = rbuf_get_u32(r);
	*block = rbuf_get_block(r);
	if (r->err)
		return PARSE_FAIL(c, -EBADMSG, "section '%s': truncated",
				  name);
	return 0;
}

static int check_complete(struct parse_ctx *c)
{
	const struct vm_state_parsed *p = c->p;

	if (!c->have_machine || !c->have_irqchip || !c->have_pit ||
	    !c->have_clock)
		return PARSE_FAIL(c, -EINVAL, "section '%s' missing",
				  !c->have_machine   ? "machine"
				  : !c->have_irqchip ? "irqchip"
				  : !c->have_pit     ? "pit"
						     : "clock");
	for (uint32_t i = 0; i < p->nr_vcpus; i++)
		if (!p->have_vcpu[i])
			return PARSE_FAIL(c, -EINVAL,
					  "section 'vcpu' for vCPU %u missing", i);
	for (unsigned int i = 0; i < device_table_len; i++) {
		const struct device_ops *ops = device_table[i];
		bool found = false;

		for (unsigned int j = 0; j < p->nr_devices; j++)
			found |= p->devices[j].ops == ops;
		if (ops->save && !found)
			return PARSE_FAIL(c, -EINVAL,
					  "section '" VM_STATE_DEVICE_PREFIX
					  "%s' missing", ops->name);
	}
	return 0;
}

int vm_state_parse(struct rbuf *r, struct vm_state_parsed *p, char *err,
		   size_t err_len)
{
	struct parse_ctx c = { .p = p, .err = err, .err_len = err_len };
	char name[VM_STATE_NAME_MAX], prev[VM_STATE_NAME_MAX] = "(start)";
	const size_t prefix_len = strlen(VM_STATE_DEVICE_PREFIX);

	for (;;) {
		uint32_t version;
		struct rbuf b;
		int ret = next_section(&c, r, name, &version, &b, prev);

		if (ret < 0)
			return ret;
		if (!strncmp(name, VM_STATE_DEVICE_PREFIX, prefix_len))
			/* Read later by the device's own load hook. */
			ret = c.have_machine ? parse_device(&c, name, version, &b)
					     : PARSE_FAIL(&c, -EINVAL,
							  "section '%s' before section 'machine'",
							  name);
		else
			ret = parse_builtin(&c, name, version, &b);
		if (ret < 0)
			return ret;
		if (strncmp(name, VM_STATE_DEVICE_PREFIX, prefix_len) && b.err)
			return PARSE_FAIL(&c, -EBADMSG, "section '%s': truncated",
					  name);
		if (strncmp(name, VM_STATE_DEVICE_PREFIX, prefix_len) &&
		    rbuf_left(&b))
			return PARSE_FAIL(&c, -EBADMSG,
					  "section '%s': %zu bytes left over",
					  name, rbuf_left(&b));
		if (!strcmp(name, VM_STATE_SEC_END))
			break;
		snprintf(prev, sizeof(prev), "%s", name);
	}
	return check_complete(&c);
}

void vm_state_parsed_free(struct vm_state_parsed *p)
{
	for (unsigned int i = 0; p->vcpus && i < p->nr_vcpus; i++)
		vcpu_snapshot_free(&p->vcpus[i]);
	free(p->vcpus);
	p->vcpus = NULL;
}
