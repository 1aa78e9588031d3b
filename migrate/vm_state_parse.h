/* SPDX-License-Identifier: MIT */
/*
 * A machine-state stream (vm_state.h) decoded and checked, but not loaded
 * anywhere: what vm_state_load() loads, and what the tests compare field
 * by field. The snapshots are kvm/'s (vcpu_snapshot.h, platform_snapshot.h).
 */
#ifndef KVMTRACK_VM_STATE_PARSE_H
#define KVMTRACK_VM_STATE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/platform_snapshot.h"
#include "kvm/vcpu_snapshot.h"
#include "lib/wire.h"
#include "vmm/mem/limits.h"

struct device_ops;

#define VM_STATE_MAX_DEVICES 16

/* A device section, kept undecoded until its load hook reads it. */
struct device_section {
	const struct device_ops *ops;
	uint32_t version;
	struct rbuf block;
};

/*
 * A whole stream, decoded and checked but not loaded anywhere. vcpus has
 * nr_vcpus entries, allocated when the "machine" section is read: sized
 * for VM_MAX_CPUS the struct would be 43 KiB, whose fresh pages cost a
 * destination ~50 us of its downtime to fault in and give back.
 */
struct vm_state_parsed {
	uint32_t nr_vcpus;
	uint64_t mem_bytes;
	struct vcpu_snapshot *vcpus;
	bool have_vcpu[VM_MAX_CPUS];
	struct platform_snapshot platform;
	struct device_section devices[VM_STATE_MAX_DEVICES];
	unsigned int nr_devices;
};

/*
 * Reads sections from r up to and including "end" into p (zeroed by the
 * caller): every name, version, length and count is checked and every
 * required section must be there once. 0, or -EBADMSG (truncated, bytes
 * left over) / -EINVAL (unknown section or device, wrong version, bad
 * count) with the section and field named in err. Device blocks point
 * into r's buffer. Free with vm_state_parsed_free() either way.
 */
int vm_state_parse(struct rbuf *r, struct vm_state_parsed *p, char *err,
		   size_t err_len);
void vm_state_parsed_free(struct vm_state_parsed *p);

#endif
