// SPDX-License-Identifier: MIT
/*
 * The machine-state stream (vm_state.h), read and checked whole before
 * anything is loaded (vm_state_parse.h): every name, version, length and
 * count, each required section once. The bodies go through the codecs
 * (vcpu_codec.h, platform_codec.h); device blocks wait for their hooks.
 */
#include "migrate/vm_state_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/registry.h"
#include "migrate/platform_codec.h"
#include "migrate/vcpu_codec.h"
#include "migrate/vm_state.h"

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
