// SPDX-License-Identifier: MIT
/*
 * The end of a run: of the VM (guest_exit) or of one CPU (sys_halt). It
 * belongs to the runtime, not to the workloads that call it when they are
 * done: the exception handler (cpu.c) ends the run too, and the runtime
 * calls nothing above itself. All it needs is the machine's debug-exit
 * port and the VEC_HALT gate, both the runtime's own.
 */
#include "guest/lib/exit.h"

#include "guest/lib/layout.h"
#include "guest/lib/machine.h"
#include "guest/lib/x86.h"

__noreturn void guest_exit(uint32_t status)
{
	uint16_t cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	if (machine.debug_exit_port)
		outb(machine.debug_exit_port, status);
	/* No debug-exit device (QEMU), or it did not stop us: halt. */
	if (!(cs & 3)) {
		for (;;)
			asm volatile("cli; hlt");
	}
	sys_halt();
}

__noreturn void sys_halt(void)
{
	asm volatile(".globl sys_halt_insn\n"
		     "sys_halt_insn: int %0" : : "i"(VEC_HALT) : "memory");
	__builtin_unreachable();
}
