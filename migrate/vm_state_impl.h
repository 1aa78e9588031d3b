/* SPDX-License-Identifier: MIT */
/*
 * Inside the machine-state stream (migrate/vm_state.h): the decoded form of
 * every section, shared by vm_state.c (framing, order), vcpu_state.c (one
 * vCPU) and platform_state.c (irqchip, PIT, clock), and by the tests that
 * compare two streams field by field. The snapshots hold KVM's uapi
 * structs in memory only; on the wire every field is written on its own,
 * little-endian, through wire.h.
 */
#ifndef KVMTRACK_VM_STATE_IMPL_H
#define KVMTRACK_VM_STATE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/platform_snapshot.h"
#include "kvm/vcpu_snapshot.h"
#include "migrate/platform_codec.h"
#include "migrate/vcpu_codec.h"
#include "lib/wire.h"
#include "vmm/vm_config.h"

struct device_ops;

/* Limits a stream must respect before anything is allocated. */
#define VM_STATE_NAME_MAX 64
#define VM_STATE_MAX_DEVICES 16

/* Section names and the format version this build writes and reads. */
#define VM_STATE_SEC_MACHINE "machine"
#define VM_STATE_SEC_VCPU "vcpu"
#define VM_STATE_SEC_IRQCHIP "irqchip"
#define VM_STATE_SEC_PIT "pit"
#define VM_STATE_SEC_CLOCK "clock"
#define VM_STATE_SEC_END "end"
#define VM_STATE_DEVICE_PREFIX "device:"
#define VM_STATE_VERSION 1u

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
