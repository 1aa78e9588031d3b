/* SPDX-License-Identifier: MIT */
/*
 * kvmtrack-guest: the bundled freestanding test guest.
 *
 * Boot (guest/lib/entry.S) is the only 32-bit code; CPL0 64-bit C
 * (guest/lib/cpu.c) only loads descriptor tables and drops to CPL3,
 * because on the project's build machines KVM emulates every CPL0
 * instruction (~0.7 us each) while CPL3 long-mode code runs natively.
 * Everything else runs at CPL3: ports are reached through the TSS I/O
 * permission bitmap, MMIO through the identity map (user-accessible), time
 * through rdtsc.
 */
#ifndef KVMTRACK_GUEST_H
#define KVMTRACK_GUEST_H

#define GUEST_VERSION "0.1"

#define MAX_CPUS 16
/* Per-CPU stacks: CPL0 (exceptions, TSS.rsp0) and CPL3 (everything else). */
#define KSTACK_SHIFT 13
#define USTACK_BYTES 16384

/* Segment selectors; keep in sync with the GDT in entry.S. */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS (0x18 | 3)
#define USER_CS (0x20 | 3)
#define TSS_SEL(cpu) (0x28 + 16 * (cpu))

/* Software vectors with DPL3 gates: the guest's "system calls". */
#define VEC_HALT 0x80 /* cli; hlt forever (no debug-exit device) */

/* Exit statuses written to the debug-exit port. */
#define STATUS_OK 0
#define STATUS_VERIFY_FAILED 1
#define STATUS_EXCEPTION 0x7e

#ifndef __ASSEMBLY__
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ul
#define PAGE_SHIFT 12
#define SZ_2M (2ul << 20)
#define SZ_4G (4ul << 30)

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define __noreturn __attribute__((noreturn))
#define __packed __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))

/* --- instructions (all of these are native at CPL3) ---------------------- */
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

/* --- string.c ------------------------------------------------------------ */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* --- serial.c / printf.c ------------------------------------------------- */
/* Programs the 16550 at port (8N1, FIFOs on); before this, output is lost. */
void serial_init(uint16_t port);
/* Writes len bytes; the caller holds the console lock. */
void serial_write(const char *buf, size_t len);

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Formats one line and writes it under the console lock (no interleaving). */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, but gives up waiting for the lock after a while: for CPL0 paths
 * that may have interrupted the lock holder on this very CPU. */
void printf_unlocked_fallback(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* --- cpu.c (CPL0) -------------------------------------------------------- */
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Called from entry.S on every CPU in 64-bit CPL0; returns the user stack
 * top entry.S irets to. */
uint64_t cpu_setup0(uint32_t cpu);
void exception_handler(struct exc_frame *f);
/* Traps to CPL0 via VEC_HALT and never comes back. On the build machines
 * a CPL3 `int n` arrives as #UD instead; the #UD handler recognises it. */
__noreturn void sys_halt(void);

/* --- exit.c -------------------------------------------------------------- */
/* Ends the VM with status: debug-exit port if any, else halt. */
__noreturn void guest_exit(uint32_t status);

/* --- machine.c: what the guest runs on ----------------------------------- */
#define MAX_RAM_RANGES 16

struct ram_range {
	uint64_t gpa;
	uint64_t bytes;
};

struct machine {
	bool have_dt;
	const char *cmdline;
	uint32_t nr_cpus; /* present, capped at MAX_CPUS */
	uint64_t tsc_khz; /* 0 until known */
	uint16_t serial_port;
	uint16_t debug_exit_port; /* 0: none */
	uint64_t testdev_gpa; /* 0: none */
	uint32_t nr_ram;
	struct ram_range ram[MAX_RAM_RANGES];
	uint32_t nr_reserved; /* ranges to keep out of (modules) */
	struct ram_range reserved[MAX_RAM_RANGES];
	const void *fdt; /* kvmtrack's device tree, NULL without one */
};

extern struct machine machine;
extern uint64_t boot_info_gpa; /* EBX at PVH entry, stored by entry.S */

/* Fills `machine` from the DT module, else from the PVH start info. */
void machine_discover(void);
/* Prints what machine_discover found. */
void machine_print(void);

/* --- fdt.c --------------------------------------------------------------- */
bool fdt_valid(const void *fdt, uint64_t max_bytes);
/* Returns the structure-block offset of the node at path, or -1. */
int fdt_path_offset(const void *fdt, const char *path);
/* Next node after offset `from` (-1: from the start) whose compatible
 * list holds compat, or -1. */
int fdt_node_compatible(const void *fdt, int from, const char *compat);
/* Value of property name of the node at offset, or NULL; *len_bytes set. */
const void *fdt_getprop(const void *fdt, int node, const char *name,
			uint32_t *len_bytes);
/* Number of direct children of node whose name starts with prefix. */
uint32_t fdt_count_children(const void *fdt, int node, const char *prefix);
uint32_t fdt_be32(const void *p);
uint64_t fdt_be64(const void *p);

/* --- tsc.c --------------------------------------------------------------- */
/* Measures the TSC against PIT channel 2 (~15 ms); returns kHz. */
uint64_t tsc_calibrate_pit(void);
uint64_t ms_to_tsc(uint64_t ms);
uint64_t tsc_to_ms(uint64_t ticks);

/* --- config.c: the command line ------------------------------------------ */
/* What a page write stores besides the two stamp words (fill=). */
enum fill_mode {
	FILL_STAMP, /* nothing: the rest of the page keeps its zeros */
	FILL_PAGE, /* every other word: pseudo-random, non-zero (stamp.c) */
};

struct config {
	uint32_t workload; /* enum testdev_workload */
	uint64_t wss_bytes;
	uint64_t rate_pages_per_s; /* 0: as fast as possible */
	uint64_t duration_ms; /* 0: forever */
	uint32_t vcpus; /* writers */
	bool verify;
	uint32_t fill; /* enum fill_mode */
	uint64_t heartbeat_ms;
	uint64_t report_ms;
	uint64_t progress_ms; /* serial progress line period, 0: off */
	bool debugexit; /* force port 0x501 without a DT (QEMU) */
	bool ap_halt; /* apidle=halt: idle secondary CPUs hlt instead of spin */
	uint64_t corrupt_pages; /* debug: spoil this many pages before verify */
	bool crash; /* debug: take a #UD at CPL3 */
	bool sync; /* sync=1: host-driven passes (sync.c) */
	uint32_t write_percent; /* sync: pages per pass, % (1-100) */
	bool alias_loop; /* workload=alias: check again until duration */
	uint64_t alias_probe_gpa; /* alias_loop: an alias made at runtime */
};

extern struct config config;

/* Parses cmdline into `config`, reporting unknown keys and bad values. */
void config_parse(const char *cmdline);
void config_print(void);
const char *workload_name(uint32_t wl);

/* --- testdev.c ----------------------------------------------------------- */
bool testdev_probe(void);
void testdev_hello(uint32_t nr_cpus, uint32_t workload, uint64_t wss_bytes,
		   uint64_t wss_base_gpa);
struct testdev_report;
void testdev_report(uint32_t cpu, const struct testdev_report *r);
void testdev_result(uint32_t cpu, uint32_t status, uint64_t checked,
		    uint64_t bad, uint64_t first_bad_gpa);
/* Returns the host's command (TESTDEV_CMD_*), NONE without a testdev. */
uint32_t testdev_poll(uint32_t cpu);
/* Same, with the command's argument in *arg (0 when none). */
uint32_t testdev_poll_arg(uint32_t cpu, uint64_t *arg);

/* --- stamp.c: page stamps and the expected-generation table -------------- */
struct verify_result {
	uint64_t checked;
	uint64_t bad;
	uint64_t first_bad_gpa;
};

/* Places the metadata and the working set in RAM above the image; may
 * shrink config.wss_bytes. Returns the working-set GPA (0: none). */
uint64_t stamp_layout(uint32_t writers);
extern uint64_t ws_base_gpa;
extern uint64_t ws_pages;
extern uint32_t *gen_table; /* expected generation per page, 0: unwritten */

/* Where the stamp's second word goes in page pfn: 1-511, pfn-dependent. */
static inline uint32_t stamp_word2_index(uint64_t pfn)
{
	return 1 + pfn % 511;
}

static inline uint64_t stamp_word2(uint64_t w0)
{
	return ~w0 ^ 0x6b766d747261636bull; /* "kvmtrack" */
}

/* fill=page: fills words 1-511 of the page at gpa for stamp word w0. */
void stamp_fill(uint64_t gpa, uint64_t w0);

/* Writes generation gen (non-zero) into page idx of the working set. */
static inline void stamp_page(uint64_t idx, uint32_t gen)
{
	uint64_t gpa = ws_base_gpa + (idx << PAGE_SHIFT);
	uint64_t pfn = gpa >> PAGE_SHIFT;
	uint64_t w0 = ((uint64_t)gen << 32) | (uint32_t)pfn;
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)gpa;

	if (config.fill == FILL_PAGE)
		stamp_fill(gpa, w0);
	/* Word 0 is (generation, pfn); a second word at a pfn-dependent
	 * offset catches a page holding a mix of two pages' content. */
	p[0] = w0;
	p[stamp_word2_index(pfn)] = stamp_word2(w0);
	gen_table[idx] = gen;
}

void stamp_verify(struct verify_result *res);
/* Debug: spoils up to n written pages: their stamp, or with fill=page
 * their filler (every word but the two stamp words zeroed). */
void stamp_corrupt(uint64_t n);
/* The interval bitmap of writer w (one bit per page of its slice). */
uint64_t *stamp_bitmap(uint32_t writer, uint64_t *words);

/* --- workload.c ---------------------------------------------------------- */
/* Runs this CPU's part of the workload until stopped; slot is the order in
 * which the CPU came up (0: boot CPU), slots below the writer count write. */
void workload_run(uint32_t cpu, uint32_t slot);
/* Called on CPU 0 once config and layout are done: releases everyone. */
void workload_start(uint32_t nr_cpus, uint32_t writers);
/* CPU 0 after workload_run: waits for writers, verifies, reports, exits. */
__noreturn void workload_finish(void);

/* --- sync.c: host-driven passes (sync=1) ---------------------------------- */
void sync_start(uint32_t nr_writers);
void sync_run(uint32_t cpu, uint32_t slot);
__noreturn void sync_finish(void);

/* --- alias.c: workload=alias --------------------------------------------- */
__noreturn void alias_workload(void);

#endif /* __ASSEMBLY__ */
#endif
