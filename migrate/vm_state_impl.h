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
#include <linux/kvm.h>

#include "kvm/vcpu_snapshot.h"
#include "lib/wire.h"
#include "vmm/vm_config.h"

struct device_ops;

/* Limits a stream must respect before anything is allocated. */
#define VM_STATE_MAX_MSRS 1024u
#define VM_STATE_MAX_XSAVE_BYTES (1u << 20)
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

void vcpu_snapshot_encode(const struct vcpu_snapshot *s, struct wbuf *w);
/* Checks every length and count; -EBADMSG/-EINVAL with err. */
int vcpu_snapshot_decode(struct rbuf *r, struct vcpu_snapshot *s, char *err,
			 size_t err_len);

/* The in-kernel irqchip (PIC master, PIC slave, IOAPIC), PIT and clock. */
struct platform_snapshot {
	struct kvm_irqchip chips[3]; /* indexed by KVM_IRQCHIP_* */
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

int irqchip_get(int vm_fd, struct platform_snapshot *p);
void irqchip_encode(const struct platform_snapshot *p, struct wbuf *w);
void irqchip_decode(struct rbuf *r, struct platform_snapshot *p);
int irqchip_put(int vm_fd, const struct platform_snapshot *p, char *err,
		size_t err_len);
int pit_get(int vm_fd, struct platform_snapshot *p);
void pit_encode(const struct platform_snapshot *p, struct wbuf *w);
void pit_decode(struct rbuf *r, struct platform_snapshot *p);
int pit_put(int vm_fd, const struct platform_snapshot *p, char *err,
	    size_t err_len);
int clock_get(int vm_fd, struct platform_snapshot *p);
void clock_encode(const struct platform_snapshot *p, struct wbuf *w);
int clock_decode(struct rbuf *r, struct platform_snapshot *p, char *err,
		 size_t err_len);
int clock_put(int vm_fd, const struct platform_snapshot *p, char *err,
	      size_t err_len);

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
