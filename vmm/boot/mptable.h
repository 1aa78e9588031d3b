/* SPDX-License-Identifier: MIT */
/*
 * The Intel MultiProcessor Specification 1.4 table that tells an x86 OS how
 * many CPUs there are and where the IOAPIC and its ISA interrupts are.
 *
 * Why an MP table and not an ACPI MADT: it is a self-contained ~500-byte
 * structure that Linux finds by scanning the BIOS area, for a bzImage and
 * for a PVH kernel alike (PVH start_info then carries no RSDP and Linux
 * falls back to the scan). A MADT would need an RSDP, an RSDT/XSDT, a FADT
 * and a DSDT for Linux to take ACPI seriously; kvmtrack has no ACPI
 * hardware (PM timer, SCI) to describe in them. Firecracker made the same
 * choice.
 */
#ifndef KVMTRACK_MPTABLE_H
#define KVMTRACK_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem;

/* In the reserved BIOS area [0xf0000, 1 MiB) that OSes scan. */
#define MPTABLE_GPA 0xf0000ull
#define MPTABLE_MAX_BYTES 0x1000ull
#define MPTABLE_IOAPIC_GPA 0xfec00000u
#define MPTABLE_LAPIC_GPA 0xfee00000u

/*
 * Builds the floating pointer and the configuration table for nr_cpus CPUs
 * (APIC IDs 0..nr_cpus-1, CPU 0 the boot CPU), one ISA bus and the IOAPIC
 * (ID nr_cpus) with ISA IRQs 0-15 on pins of the same number, as KVM's
 * default GSI routing wires them. Writes it into buf[0..len) as if it lay
 * at MPTABLE_GPA. Returns the size in bytes or -ENOSPC. Pure: unit-tested.
 */
int mptable_build(unsigned int nr_cpus, uint8_t *buf, size_t len);

/* Builds the table and writes it at MPTABLE_GPA. 0 or -errno. */
int mptable_write(struct guest_mem *mem, unsigned int nr_cpus);

#endif
