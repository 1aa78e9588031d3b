/* SPDX-License-Identifier: MIT */
/*
 * The x86 instructions the guest uses from C, all of them native at CPL3:
 * the TSC, pause, port I/O (through the TSS I/O permission bitmap) and
 * MMIO (through the user-accessible identity map).
 */
#ifndef KVMTRACK_GUEST_LIB_X86_H
#define KVMTRACK_GUEST_LIB_X86_H

#include <stdint.h>

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

static inline void barrier(void)
{
	asm volatile("" ::: "memory");
}

/* Port I/O: from CPL3 each one is an exit (~34 us here); use sparingly. */
static inline void outb(uint16_t port, uint8_t val)
{
	asm volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t val;

	asm volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline void mmio_write64(uint64_t gpa, uint64_t val)
{
	*(volatile uint64_t *)(uintptr_t)gpa = val;
}

static inline uint32_t mmio_read32(uint64_t gpa)
{
	return *(volatile uint32_t *)(uintptr_t)gpa;
}

#endif
