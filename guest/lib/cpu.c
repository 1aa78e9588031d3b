// SPDX-License-Identifier: MIT
/*
 * CPL0 setup: GDT, TSS, IDT, the per-CPU stacks, and the exception handler.
 *
 * This is the only C code that runs at CPL0 (besides the exception path),
 * and every instruction of it is emulated on the build machines, so it is
 * kept to a few hundred instructions per CPU and clears no memory itself
 * (the loader zeroed the bss).
 */
#include "guest/lib/cpu.h"

#include <stddef.h>

#include "guest/lib/compiler.h"
#include "guest/lib/exit.h"
#include "guest/lib/layout.h"
#include "guest/lib/printf.h"
#include "guest/lib/x86.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

_Static_assert(sizeof(struct tss) == 104, "64-bit TSS layout");

#define TSS_STRIDE 128
#define IOPB_BYTES 8192 /* one bit per port, 65536 ports */

/*
 * All TSSes share one I/O permission bitmap: the bitmap is only read by
 * the CPU, and each TSS's iomap_base points at it (a 16-bit offset from
 * that TSS, so they must sit within 64 KiB of it). All-zero bits let CPL3
 * use every port; the trailing 0xff byte is the SDM's terminator, read
 * when an access touches the last bitmap byte.
 */
struct tss_area {
	union {
		struct tss tss;
		uint8_t pad[TSS_STRIDE];
	} slot[MAX_CPUS];
	uint8_t iopb[IOPB_BYTES];
	uint8_t iopb_end;
} __aligned(TSS_STRIDE);

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __packed;

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

#define GATE_INTR 0x0e
#define GATE_PRESENT 0x80
#define GATE_DPL(d) ((d) << 5)
#define EXC_STUB_BYTES 16 /* entry.S aligns each stub to 16 bytes */

/*
 * The flat segments layout.h names, then one 16-byte TSS descriptor per
 * CPU, which tss_load fills in. entry.S loads it through gdt_ptr on the
 * way to long mode, so it is initialised data, not built at run time.
 */
static uint64_t gdt[TSS_SEL(0) / 8 + 2 * MAX_CPUS] __aligned(16) = {
	[KERNEL_CS / 8] = 0x00af9a000000ffff, /* kernel code, 64-bit */
	[KERNEL_DS / 8] = 0x00cf92000000ffff, /* kernel data */
	[USER_DS / 8] = 0x00cff2000000ffff, /* user data, DPL3 */
	[USER_CS / 8] = 0x00affa000000ffff, /* user code, 64-bit, DPL3 */
};
const struct desc_ptr gdt_ptr = {
	.limit = sizeof(gdt) - 1,
	.base = (uintptr_t)gdt,
};
/* CPL0 stacks, 1 << KSTACK_SHIFT bytes each: entry.S runs cpu_setup0 on
 * them, then TSS.rsp0 points exceptions there. */
char kstacks[MAX_CPUS << KSTACK_SHIFT] __aligned(4096);
static struct tss_area tss_area;
static struct idt_gate idt[256] __aligned(16);
static uint8_t ustacks[MAX_CPUS][USTACK_BYTES] __aligned(4096);
/* Set by CPU 0 once the IDT is built; secondary CPUs wait for it. */
static volatile uint32_t idt_ready;
static volatile uint32_t in_exception[MAX_CPUS];

static void set_gate(unsigned int vec, const void *handler, unsigned int dpl)
{
	uint64_t addr = (uintptr_t)handler;
	struct idt_gate *g = &idt[vec];

	g->offset_lo = addr & 0xffff;
	g->selector = KERNEL_CS;
	g->ist = 0;
	g->type_attr = GATE_PRESENT | GATE_DPL(dpl) | GATE_INTR;
	g->offset_mid = (addr >> 16) & 0xffff;
	g->offset_hi = addr >> 32;
}

static void idt_build(const char *exc_stubs, const void *halt_stub)
{
	unsigned int vec;

	/* DPL0: a CPL3 `int n` on these is a #GP, not a fake exception. */
	for (vec = 0; vec < 32; vec++)
		set_gate(vec, exc_stubs + vec * EXC_STUB_BYTES, 0);
	set_gate(VEC_HALT, halt_stub, 3);
}

static void tss_load(uint32_t cpu)
{
	struct tss *t = &tss_area.slot[cpu].tss;
	uint64_t base = (uintptr_t)t;
	uint32_t iomap = offsetof(struct tss_area, iopb) - cpu * TSS_STRIDE;
	/* The limit must cover the whole bitmap and its terminator. */
	uint32_t limit = iomap + IOPB_BYTES;
	uint64_t lo;

	t->rsp[0] = (uintptr_t)kstacks + ((uint64_t)(cpu + 1) << KSTACK_SHIFT);
	t->iomap_base = iomap;

	lo = (limit & 0xffff) | ((base & 0xffffff) << 16) |
	     (0x89ull << 40) /* present, 64-bit available TSS */ |
	     ((uint64_t)((limit >> 16) & 0xf) << 48) |
	     ((base >> 24 & 0xff) << 56);
	gdt[TSS_SEL(cpu) / 8] = lo;
	gdt[TSS_SEL(cpu) / 8 + 1] = base >> 32;
	asm volatile("ltr %w0" : : "r"(TSS_SEL(cpu)) : "memory");
}

uint64_t cpu_setup0(uint32_t cpu, const char *exc_stubs, const void *halt_stub)
{
	struct desc_ptr idtr = {
		.limit = sizeof(idt) - 1,
		.base = (uintptr_t)idt,
	};

	if (cpu == 0) {
		tss_area.iopb_end = 0xff;
		idt_build(exc_stubs, halt_stub);
		__atomic_store_n(&idt_ready, 1, __ATOMIC_RELEASE);
	} else {
		while (!__atomic_load_n(&idt_ready, __ATOMIC_ACQUIRE))
			cpu_relax();
	}
	tss_load(cpu);
	asm volatile("lidt %0" : : "m"(idtr) : "memory");
	return (uintptr_t)&ustacks[cpu][USTACK_BYTES];
}

void exception_handler(struct exc_frame *f)
{
	uint32_t cpu = ((uintptr_t)f - (uintptr_t)kstacks) >> KSTACK_SHIFT;
	uint64_t cr2;

	/*
	 * The build machines' KVM turns a CPL3 `int n` into #UD (it emulates
	 * the instruction and fails); take that as the halt call it was: the
	 * stub parks this CPU when we return, as VEC_HALT's gate does.
	 */
	if (f->vector == 6 && f->rip == (uintptr_t)sys_halt_insn)
		return;
	if (cpu >= MAX_CPUS || in_exception[cpu]) {
		/* A fault while reporting a fault: just stop this CPU. */
		for (;;)
			asm volatile("cli; hlt");
	}
	in_exception[cpu] = 1;
	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	printf_unlocked_fallback(
		"kvmtrack-guest: exception %lu err=%#lx rip=%#lx on cpu %u\n",
		f->vector, f->error, f->rip, cpu);
	printf_unlocked_fallback(
		"kvmtrack-guest:   cs=%#lx rsp=%#lx rflags=%#lx cr2=%#lx\n",
		f->cs, f->rsp, f->rflags, cr2);
	guest_exit(STATUS_EXCEPTION);
}
