// SPDX-License-Identifier: MIT
/* The MP table (see mptable.h), assembled byte by byte, little-endian. */
#include "vmm/boot/mptable.h"

#include <errno.h>
#include <string.h>

#include "vmm/mem/memory.h"

#define MPF_BYTES 16
#define MPC_HDR_BYTES 44
#define MP_CPU_BYTES 20
#define MP_ENTRY_BYTES 8
#define MP_SPEC_REV 4 /* 1.4 */
#define MP_LAPIC_VERSION 0x14 /* what KVM's in-kernel LAPIC reports */
#define MP_IOAPIC_VERSION 0x11
#define ISA_IRQS 16

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

static void put_le(uint8_t *p, unsigned int bytes, uint64_t v)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The byte that makes buf[0..len) sum to zero. */
static uint8_t checksum(const uint8_t *buf, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + buf[i]);
	return (uint8_t)-sum;
}

static uint8_t *put_cpu(uint8_t *e, unsigned int apic_id)
{
	e[0] = MP_PROCESSOR;
	e[1] = (uint8_t)apic_id;
	e[2] = MP_LAPIC_VERSION;
	e[3] = 0x1 | (apic_id == 0 ? 0x2 : 0); /* enabled, boot CPU */
	put_le(e + 4, 4, 0x600); /* CPU signature: family 6 */
	put_le(e + 8, 4, 0x201); /* feature flags: FPU, APIC */
	return e + MP_CPU_BYTES;
}

static uint8_t *put_bus_and_ioapic(uint8_t *e, unsigned int ioapic_id)
{
	e[0] = MP_BUS;
	e[1] = 0;
	memcpy(e + 2, "ISA   ", 6);
	e += MP_ENTRY_BYTES;
	e[0] = MP_IOAPIC;
	e[1] = (uint8_t)ioapic_id;
	e[2] = MP_IOAPIC_VERSION;
	e[3] = 0x1; /* usable */
	put_le(e + 4, 4, MPTABLE_IOAPIC_GPA);
	return e + MP_ENTRY_BYTES;
}

/* type 3 (I/O) or 4 (local) interrupt assignment entry */
static uint8_t *put_irq(uint8_t *e, unsigned int entry_type,
			unsigned int irq_type, unsigned int src_irq,
			unsigned int dst_id, unsigned int dst_pin)
{
	e[0] = (uint8_t)entry_type;
	e[1] = (uint8_t)irq_type;
	put_le(e + 2, 2, 0); /* polarity and trigger: conform to the bus */
	e[4] = 0; /* source bus: ISA */
	e[5] = (uint8_t)src_irq;
	e[6] = (uint8_t)dst_id;
	e[7] = (uint8_t)dst_pin;
	return e + MP_ENTRY_BYTES;
}

static size_t table_bytes(unsigned int nr_cpus)
{
	/* CPUs, bus, IOAPIC, ISA IRQs but the cascade (2), LINT0 and LINT1 */
	return MPF_BYTES + MPC_HDR_BYTES + MP_CPU_BYTES * nr_cpus +
	       MP_ENTRY_BYTES * (2 + (ISA_IRQS - 1) + 2);
}

int mptable_build(unsigned int nr_cpus, uint8_t *buf, size_t len)
{
	uint8_t *mpc = buf + MPF_BYTES, *e = mpc + MPC_HDR_BYTES;
	size_t bytes = table_bytes(nr_cpus);
	unsigned int entries = nr_cpus + 2 + (ISA_IRQS - 1) + 2;

	if (nr_cpus == 0 || nr_cpus > 254 || bytes > len)
		return -ENOSPC;
	memset(buf, 0, bytes);
	for (unsigned int i = 0; i < nr_cpus; i++)
		e = put_cpu(e, i);
	e = put_bus_and_ioapic(e, nr_cpus);
	for (unsigned int irq = 0; irq < ISA_IRQS; irq++)
		if (irq != 2)
			e = put_irq(e, MP_INTSRC, MP_INT, irq, nr_cpus, irq);
	/* Virtual wire mode: the PIC through LINT0, NMI on LINT1, all CPUs. */
	e = put_irq(e, MP_LINTSRC, MP_EXTINT, 0, 0xff, 0);
	e = put_irq(e, MP_LINTSRC, MP_NMI, 0, 0xff, 1);

	memcpy(mpc, "PCMP", 4);
	put_le(mpc + 4, 2, (uint64_t)(e - mpc)); /* base table length */
	mpc[6] = MP_SPEC_REV;
	memcpy(mpc + 8, "KVMTRACK", 8); /* OEM ID */
	memcpy(mpc + 16, "KVMTRACK PC ", 12); /* product ID */
	put_le(mpc + 34, 2, entries);
	put_le(mpc + 36, 4, MPTABLE_LAPIC_GPA);
	mpc[7] = checksum(mpc, (size_t)(e - mpc));

	memcpy(buf, "_MP_", 4);
	put_le(buf + 4, 4, MPTABLE_GPA + MPF_BYTES); /* configuration table */
	buf[8] = 1; /* length in 16-byte units */
	buf[9] = MP_SPEC_REV;
	/* feature bytes 1-5 zero: the table is present, no IMCR */
	buf[10] = checksum(buf, MPF_BYTES);
	return (int)bytes;
}

int mptable_write(struct guest_mem *mem, unsigned int nr_cpus)
{
	uint8_t buf[MPTABLE_MAX_BYTES];
	int bytes = mptable_build(nr_cpus, buf, sizeof(buf));

	if (bytes < 0)
		return bytes;
	return guest_mem_write(mem, MPTABLE_GPA, buf, (uint64_t)bytes);
}
