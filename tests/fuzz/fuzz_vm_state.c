// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the machine-state stream's decoders (migrate/
 * vm_state_parse.c, vcpu_codec.c, platform_codec.c) and the device-state
 * decoders behind it (the UART model, the test device, a PCI function's
 * configuration space), which a destination and a restore run on the
 * STATE frame or file. The input is that stream.
 *
 * Two properties beside the sanitizers': a vCPU the decoder took is
 * encoded and decoded again without error, and so is a UART state.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/pci_function.h"
#include "devices/pvpanic.h"
#include "devices/testdev_model.h"
#include "devices/testdev_save.h"
#include "devices/uart_model.h"
#include "lib/wire.h"
#include "migrate/vcpu_codec.h"
#include "migrate/vm_state_parse.h"
#include "tests/fuzz/fuzz.h"
#include "vmm/device.h"

/* What a decoded vCPU encodes to must decode again. */
static void vcpu_round_trip(const struct vcpu_snapshot *s)
{
	struct vcpu_snapshot again;
	char why[160];
	struct wbuf w;
	struct rbuf r;

	wbuf_init(&w);
	vcpu_snapshot_encode(s, &w);
	rbuf_init(&r, w.data, w.len);
	if (w.err || vcpu_snapshot_decode(&r, &again, why, sizeof(why)) ||
	    rbuf_left(&r) || again.index != s->index ||
	    memcmp(&again.regs, &s->regs, sizeof(s->regs)))
		abort();
	vcpu_snapshot_free(&again);
	wbuf_free(&w);
}

static void load_uart(struct rbuf *r)
{
	struct uart16550 u, again;
	char why[256];
	struct wbuf w;
	struct rbuf back;

	uart_init(&u, NULL, NULL, NULL);
	if (uart_load(&u, r, why, sizeof(why)))
		return;
	rbuf_get_u8(r); /* uart16550.c's guest_listening */
	wbuf_init(&w);
	uart_save(&u, &w);
	rbuf_init(&back, w.data, w.len);
	uart_init(&again, NULL, NULL, NULL);
	if (w.err || uart_load(&again, &back, why, sizeof(why)) ||
	    rbuf_left(&back))
		abort();
	wbuf_free(&w);
}

static void load_testdev(struct rbuf *r, uint32_t version)
{
	struct testdev *td;
	char why[256];

	if (testdev_create(NULL, &td))
		abort();
	testdev_load(td, r, version, why, sizeof(why));
	testdev_destroy(td);
}

/* pci_host.c's layout: CONFIG_ADDRESS, the reset control register, then
 * each slot's function: a host bridge and pvpanic. */
static void load_pci_host(struct rbuf *r)
{
	struct pci_function fn[2];
	char why[256];

	/* Their identities as pci_host.c and pvpanic.c give them. */
	pci_function_init(&fn[0], "host-bridge", 0x1b36, 0x0008, 0x060000,
			  0x1b36, 0x0008);
	pci_function_init(&fn[1], "pvpanic", 0x1b36, 0x0011, 0x088000,
			  0x1b36, 0x0011);
	pci_function_add_bar_mem32(&fn[1], 0, PVPANIC_BAR_GPA,
				   16);
	rbuf_get_u32(r);
	rbuf_get_u8(r);
	for (unsigned int i = 0; i < 2 && !r->err; i++)
		if (pci_function_load(&fn[i], r, why, sizeof(why)))
			break;
	pci_function_destroy(&fn[0]);
	pci_function_destroy(&fn[1]);
}

static void load_device(const struct device_section *sec)
{
	struct rbuf b = sec->block;

	if (!strcmp(sec->ops->name, "uart16550"))
		load_uart(&b);
	else if (!strcmp(sec->ops->name, "testdev"))
		load_testdev(&b, sec->version);
	else if (!strcmp(sec->ops->name, "pci-host"))
		load_pci_host(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_state_parsed *p = calloc(1, sizeof(*p));
	char why[256];
	struct rbuf r;

	if (!p)
		abort();
	rbuf_init(&r, data, size);
	if (!vm_state_parse(&r, p, why, sizeof(why))) {
		for (uint32_t i = 0; i < p->nr_vcpus; i++)
			vcpu_round_trip(&p->vcpus[i]);
		for (unsigned int i = 0; i < p->nr_devices; i++)
			load_device(&p->devices[i]);
	}
	vm_state_parsed_free(p);
	free(p);
	return 0;
}
