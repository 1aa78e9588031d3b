// SPDX-License-Identifier: MIT
/*
 * Legacy PC ports with nothing behind them. An x86 OS probes the ISA
 * devices a PC traditionally has (DMA controllers, the POST/delay port
 * 0x80, COM2-4, parallel ports, VGA, floppy, IDE) and expects an absent one
 * to behave as an empty ISA bus does: reads return all ones, writes vanish.
 * kvmtrack answers every unclaimed port that way (vmm/unclaimed.c), but
 * with --strict-io it stops a guest that touches one (a bug in its own test
 * guests); these ranges are claimed here so that even then an OS's probes
 * of them pass. Port 0x99, used by the tests as "unknown", stays unknown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "lib/log.h"
#include "vmm/mem/bus.h"
#include "vmm/vm.h"

struct port_range {
	uint16_t base;
	uint16_t len;
	const char *what;
};

static const struct port_range absent_ports[] = {
	{ 0x000, 0x20, "dma1" },
	{ 0x080, 0x10, "post, dma pages" },
	{ 0x0c0, 0x20, "dma2" },
	{ 0x0ed, 0x01, "io-delay" },
	{ 0x0f0, 0x10, "fpu" },
	{ 0x170, 0x08, "ide2" },
	{ 0x1f0, 0x08, "ide1" },
	{ 0x278, 0x08, "lpt2" },
	{ 0x2e8, 0x08, "com4" },
	{ 0x2f8, 0x08, "com2" },
	{ 0x376, 0x01, "ide2-ctl" },
	{ 0x378, 0x08, "lpt1" },
	{ 0x3b0, 0x30, "vga" },
	{ 0x3e8, 0x08, "com3" },
	{ 0x3f0, 0x08, "fdc, ide1-ctl" },
};

static int absent_access(void *opaque, uint64_t offset, uint8_t *data,
			 uint32_t len, bool is_write)
{
	if (!is_write)
		bus_data_put(data, len, ~0ull);
	return 0;
}

static int absent_init(struct vm *vm, void **state)
{
	for (size_t i = 0; i < sizeof(absent_ports) / sizeof(absent_ports[0]);
	     i++) {
		const struct port_range *r = &absent_ports[i];
		int err = bus_register(vm_bus(vm), BUS_PIO, r->base, r->len,
				       r->what, absent_access, NULL);

		if (err) {
			log_err("isa-absent: cannot claim ports 0x%x-0x%x (%s): %s",
				r->base, r->base + r->len - 1, r->what,
				strerror(-err));
			return err;
		}
	}
	*state = NULL;
	return 0;
}

static void absent_exit(void *state)
{
}

const struct device_ops isa_absent_ops = {
	.name = "isa-absent",
	.init = absent_init,
	.exit = absent_exit,
};
