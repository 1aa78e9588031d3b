// SPDX-License-Identifier: MIT
/*
 * pvpanic on PCI (pvpanic.h). BAR 0 holds one byte-wide register: a read
 * gives the events the device takes (panicked, crash loaded), which Linux
 * checks at probe; a write reports events. "Panicked" stops the VM with
 * status 4; "crash loaded" (a kdump kernel took over) is logged and the
 * guest goes on, as QEMU's default action does.
 */
#include "devices/pvpanic.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci_function.h"
#include "lib/json/json.h"
#include "lib/log.h"
#include "vmm/mem/bus.h"
#include "vmm/vm.h"

#define PVPANIC_PCI_VENDOR 0x1b36 /* Red Hat, as QEMU's */
#define PVPANIC_PCI_DEVICE 0x0011
#define PVPANIC_PCI_CLASS 0x088000 /* system peripheral, other */
#define PVPANIC_BAR_BYTES 16 /* the smallest memory BAR */
#define PVPANIC_PANICKED 0x01
#define PVPANIC_CRASH_LOADED 0x02

struct pvpanic {
	struct vm *vm;
	struct pci_function fn;
	atomic_ulong panicked;
	atomic_ulong crash_loaded;
};

static void events(struct pvpanic *p, uint8_t v)
{
	if (v & PVPANIC_CRASH_LOADED) {
		atomic_fetch_add(&p->crash_loaded, 1);
		log_info("pvpanic: the guest kernel crashed and loaded its crash kernel");
	}
	if (v & PVPANIC_PANICKED) {
		atomic_fetch_add(&p->panicked, 1);
		vm_request_stop(p->vm, VM_STOP_GUEST_PANIC, 4,
				"the guest kernel panicked (pvpanic)");
	}
}

static int bar_access(void *opaque, uint64_t offset, uint8_t *data,
		      uint32_t len, bool is_write)
{
	struct pvpanic *p = opaque;

	/* Decoding off, or the guest moved the BAR (kvmtrack decodes it only
	 * where firmware put it): the bus has nothing here. */
	if (!pci_function_bar_decodes(&p->fn, 0, PVPANIC_BAR_GPA)) {
		if (!is_write)
			bus_data_put(data, len, ~0ull);
		return 0;
	}
	if (!is_write)
		bus_data_put(data, len,
			     offset ? 0 : PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	else if (offset == 0)
		events(p, data[0]);
	return 0;
}

int pvpanic_create(struct vm *vm, struct pvpanic **out,
		   struct pci_function **fn)
{
	struct pvpanic *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	p->vm = vm;
	pci_function_init(&p->fn, "pvpanic", PVPANIC_PCI_VENDOR,
			  PVPANIC_PCI_DEVICE, PVPANIC_PCI_CLASS,
			  PVPANIC_PCI_VENDOR, PVPANIC_PCI_DEVICE);
	pci_function_add_bar_mem32(&p->fn, 0, PVPANIC_BAR_GPA,
				   PVPANIC_BAR_BYTES);
	err = bus_register(vm_bus(vm), BUS_MMIO, PVPANIC_BAR_GPA,
			   PVPANIC_BAR_BYTES, "pvpanic", bar_access, p);
	if (err) {
		log_err("pvpanic: cannot claim MMIO 0x%x: %s", PVPANIC_BAR_GPA,
			strerror(-err));
		pvpanic_destroy(p);
		return err;
	}
	*out = p;
	*fn = &p->fn;
	return 0;
}

void pvpanic_destroy(struct pvpanic *p)
{
	if (!p)
		return;
	pci_function_destroy(&p->fn);
	free(p);
}

void pvpanic_stats(struct pvpanic *p, struct jw *w)
{
	jw_object_begin(w, "pvpanic");
	jw_u64(w, "panicked", atomic_load(&p->panicked));
	jw_u64(w, "crash_loaded", atomic_load(&p->crash_loaded));
	jw_object_end(w);
}
