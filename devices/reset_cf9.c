// SPDX-License-Identifier: MIT
/*
 * Ports 0xcf8-0xcff: the PC's reset control register and, around it, the
 * PCI configuration mechanism #1 of a machine that has no PCI bus.
 *
 * A byte write to 0xcf9 with bit 2 (RST_CPU) set resets the machine, which
 * ends kvmtrack with status 0 (Linux's reboot=pci writes 0x02, then 0x06).
 * The same eight ports carry PCI's CONFIG_ADDRESS (0xcf8, 32-bit) and
 * CONFIG_DATA (0xcfc-0xcff), so one device must own them all. kvmtrack has
 * no PCI bus: configuration reads return all ones, as with no host bridge
 * at all, and writes are dropped. Linux reads PCI configuration space very
 * early (Sandy Bridge graphics quirk), concludes from the all-ones answers
 * that there is no PCI, and goes on.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "lib/log.h"
#include "vmm/mem/bus.h"
#include "vmm/vm.h"

#define PCI_CONF_PORT 0xcf8
#define PCI_CONF_PORT_BYTES 8
#define RCR_OFFSET 1 /* 0xcf9 */
#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04

struct reset_cf9 {
	struct vm *vm;
	pthread_mutex_t lock; /* guards rcr */
	uint8_t rcr;
};

static int cf9_access(void *opaque, uint64_t offset, uint8_t *data,
		      uint32_t len, bool is_write)
{
	struct reset_cf9 *d = opaque;
	uint8_t v;

	if (offset != RCR_OFFSET || len != 1) {
		/* PCI configuration mechanism #1 with no bus behind it. */
		if (!is_write)
			bus_data_put(data, len, ~0ull);
		return 0;
	}
	pthread_mutex_lock(&d->lock);
	if (!is_write) {
		v = d->rcr;
		pthread_mutex_unlock(&d->lock);
		bus_data_put(data, len, v);
		return 0;
	}
	v = (uint8_t)bus_data_get(data, len);
	d->rcr = v & RCR_SYS_RST; /* RST_CPU is self-clearing */
	pthread_mutex_unlock(&d->lock);
	if (v & RCR_RST_CPU)
		vm_request_stop(d->vm, VM_STOP_GUEST_EXIT, 0,
				v & RCR_SYS_RST
					? "guest requested a reset via port 0xcf9 (hard reset)"
					: "guest requested a reset via port 0xcf9 (soft reset)");
	return 0;
}

static int cf9_init(struct vm *vm, void **state)
{
	struct reset_cf9 *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	d->vm = vm;
	pthread_mutex_init(&d->lock, NULL);
	err = bus_register(vm_bus(vm), BUS_PIO, PCI_CONF_PORT,
			   PCI_CONF_PORT_BYTES, "reset-cf9", cf9_access, d);
	if (err) {
		log_err("reset-cf9: cannot claim ports 0xcf8-0xcff: %s",
			strerror(-err));
		pthread_mutex_destroy(&d->lock);
		free(d);
		return err;
	}
	*state = d;
	return 0;
}

static void cf9_exit(void *state)
{
	struct reset_cf9 *d = state;

	pthread_mutex_destroy(&d->lock);
	free(d);
}

const struct device_ops reset_cf9_ops = {
	.name = "reset-cf9",
	.init = cf9_init,
	.exit = cf9_exit,
};
