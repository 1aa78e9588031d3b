// SPDX-License-Identifier: MIT
/*
 * Ports 0xcf8-0xcff: PCI configuration mechanism #1 in front of a bus 0
 * with two functions, and the PC's reset control register at 0xcf9.
 *
 * A 32-bit access to 0xcf8 is CONFIG_ADDRESS; 0xcfc-0xcff carry the data
 * of the register it names. Bus 0 holds a host bridge at 00:00.0 (Linux
 * trusts mechanism #1 on a machine without ACPI only when a host bridge
 * answers) and pvpanic at 00:01.0 (pvpanic.h); every other address reads
 * all ones, as an empty slot does. Linux finds them by probing, the way
 * kvmtool's guests do, and claims the BARs where this file put them.
 *
 * A byte write to 0xcf9 with bit 2 (RST_CPU) set resets the machine, which
 * ends kvmtrack with status 0 (Linux's reboot=pci writes 0x02, then 0x06).
 * The one device owns all eight ports, as the chipset does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "devices/pci_function.h"
#include "devices/pvpanic.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "vmm/mem/bus.h"
#include "vmm/vm.h"

#define PCI_CONF_PORT 0xcf8
#define PCI_CONF_PORT_BYTES 8
#define PCI_CONF_DATA_OFFSET 4 /* 0xcfc */
#define PCI_CONF_ENABLE 0x80000000u
#define RCR_OFFSET 1 /* 0xcf9 */
#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04
#define PCI_HOST_STATE_VERSION 1

/* Red Hat's generic host bridge ID, as QEMU's; class "host bridge". */
#define HOST_BRIDGE_VENDOR 0x1b36
#define HOST_BRIDGE_DEVICE 0x0008
#define HOST_BRIDGE_CLASS 0x060000

enum { SLOT_HOST_BRIDGE, SLOT_PVPANIC, NR_SLOTS };

struct pci_host {
	struct vm *vm;
	pthread_mutex_t lock; /* guards config_address and rcr */
	uint32_t config_address;
	uint8_t rcr;
	struct pci_function bridge;
	struct pvpanic *pvpanic;
	struct pci_function *slot[NR_SLOTS];
};

/* The function CONFIG_ADDRESS names, and the register in it; NULL for an
 * empty slot, another bus or function, or mechanism #1 turned off. */
static struct pci_function *addressed(struct pci_host *h, uint32_t addr,
				      unsigned int *reg)
{
	unsigned int bus = (addr >> 16) & 0xff, dev = (addr >> 11) & 0x1f;
	unsigned int func = (addr >> 8) & 0x7;

	*reg = addr & 0xfc;
	if (!(addr & PCI_CONF_ENABLE) || bus || func || dev >= NR_SLOTS)
		return NULL;
	return h->slot[dev];
}

static void config_data(struct pci_host *h, unsigned int byte, uint8_t *data,
			uint32_t len, bool is_write)
{
	struct pci_function *f;
	unsigned int reg;
	uint32_t addr;

	pthread_mutex_lock(&h->lock);
	addr = h->config_address;
	pthread_mutex_unlock(&h->lock);
	f = addressed(h, addr, &reg);
	if (is_write) {
		if (f)
			pci_function_write(f, reg + byte, len,
					   (uint32_t)bus_data_get(data, len));
		return;
	}
	bus_data_put(data, len, f ? pci_function_read(f, reg + byte, len) : ~0ull);
}

static void reset_control(struct pci_host *h, uint8_t *data, bool is_write)
{
	uint8_t v;

	pthread_mutex_lock(&h->lock);
	if (!is_write) {
		data[0] = h->rcr;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	v = data[0];
	h->rcr = v & RCR_SYS_RST; /* RST_CPU is self-clearing */
	pthread_mutex_unlock(&h->lock);
	if (v & RCR_RST_CPU)
		vm_request_stop(h->vm, VM_STOP_GUEST_EXIT, 0,
				v & RCR_SYS_RST
					? "guest requested a reset via port 0xcf9 (hard reset)"
					: "guest requested a reset via port 0xcf9 (soft reset)");
}

static int host_access(void *opaque, uint64_t offset, uint8_t *data,
		       uint32_t len, bool is_write)
{
	struct pci_host *h = opaque;

	if (offset >= PCI_CONF_DATA_OFFSET) {
		config_data(h, (unsigned int)offset - PCI_CONF_DATA_OFFSET, data,
			    len, is_write);
	} else if (offset == 0 && len == 4) {
		pthread_mutex_lock(&h->lock);
		if (is_write)
			h->config_address = (uint32_t)bus_data_get(data, len);
		else
			bus_data_put(data, len, h->config_address);
		pthread_mutex_unlock(&h->lock);
	} else if (offset == RCR_OFFSET && len == 1) {
		reset_control(h, data, is_write);
	} else if (!is_write) {
		/* Other bytes of 0xcf8-0xcfb: nothing behind them (Linux's
		 * mechanism #1 probe writes 0xcfb and reads nothing back). */
		bus_data_put(data, len, ~0ull);
	}
	return 0;
}

static void host_exit(void *state)
{
	struct pci_host *h = state;

	pvpanic_destroy(h->pvpanic);
	pci_function_destroy(&h->bridge);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static int host_init(struct vm *vm, void **state)
{
	struct pci_host *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	h->vm = vm;
	pthread_mutex_init(&h->lock, NULL);
	pci_function_init(&h->bridge, "host-bridge", HOST_BRIDGE_VENDOR,
			  HOST_BRIDGE_DEVICE, HOST_BRIDGE_CLASS,
			  HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE);
	h->slot[SLOT_HOST_BRIDGE] = &h->bridge;
	err = pvpanic_create(vm, &h->pvpanic, &h->slot[SLOT_PVPANIC]);
	if (!err) {
		err = bus_register(vm_bus(vm), BUS_PIO, PCI_CONF_PORT,
				   PCI_CONF_PORT_BYTES, "pci-host", host_access,
				   h);
		if (err)
			log_err("pci-host: cannot claim ports 0xcf8-0xcff: %s",
				strerror(-err));
	}
	if (err) {
		host_exit(h);
		return err;
	}
	*state = h;
	return 0;
}

static void host_stats(void *state, struct jw *w)
{
	struct pci_host *h = state;

	pvpanic_stats(h->pvpanic, w);
}

static int host_save(void *state, struct wbuf *w)
{
	struct pci_host *h = state;

	pthread_mutex_lock(&h->lock);
	wbuf_put_u32(w, h->config_address);
	wbuf_put_u8(w, h->rcr);
	pthread_mutex_unlock(&h->lock);
	for (unsigned int i = 0; i < NR_SLOTS; i++)
		pci_function_save(h->slot[i], w);
	return w->err;
}

static int host_load(void *state, struct rbuf *r, uint32_t version, char *err,
		     size_t err_len)
{
	struct pci_host *h = state;
	uint32_t addr;
	uint8_t rcr;
	int ret = 0;

	if (version != PCI_HOST_STATE_VERSION) {
		snprintf(err, err_len, "pci-host: state version %u, can read %u",
			 version, PCI_HOST_STATE_VERSION);
		return -EINVAL;
	}
	addr = rbuf_get_u32(r);
	rcr = rbuf_get_u8(r);
	if (r->err || rcr & ~RCR_SYS_RST) {
		snprintf(err, err_len, "pci-host: %s reset control register",
			 r->err ? "truncated before the" : "impossible");
		return r->err ? -EBADMSG : -EINVAL;
	}
	for (unsigned int i = 0; i < NR_SLOTS && !ret; i++)
		ret = pci_function_load(h->slot[i], r, err, err_len);
	if (ret)
		return ret;
	pthread_mutex_lock(&h->lock);
	h->config_address = addr;
	h->rcr = rcr;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

const struct device_ops pci_host_ops = {
	.name = "pci-host",
	.init = host_init,
	.stats = host_stats,
	.exit = host_exit,
	.state_version = PCI_HOST_STATE_VERSION,
	.save = host_save,
	.load = host_load,
};
