// SPDX-License-Identifier: MIT
/* One PCI function's configuration space (pci_function.h). */
#include "devices/pci_function.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/le.h"
#include "lib/wire.h"

#define PCI_CFG_DEVICE_ID 0x02
#define PCI_CFG_REVISION 0x08
#define PCI_CFG_CLASS 0x09 /* three bytes: prog-if, sub-class, base */
#define PCI_CFG_HEADER_TYPE 0x0e
#define PCI_CFG_SUBSYS_VENDOR 0x2c
#define PCI_CFG_SUBSYS_ID 0x2e
#define PCI_CFG_INTERRUPT_LINE 0x3c
/* I/O and memory decoding, bus mastering, INTx disable: what Linux sets. */
#define PCI_COMMAND_WRITABLE 0x0407

void pci_function_init(struct pci_function *f, const char *name,
		       uint16_t vendor, uint16_t device, uint32_t class_code,
		       uint16_t subsys_vendor, uint16_t subsys)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	pthread_mutex_init(&f->lock, NULL);
	put_le16(f->cfg + PCI_CFG_VENDOR_ID, vendor);
	put_le16(f->cfg + PCI_CFG_DEVICE_ID, device);
	f->cfg[PCI_CFG_REVISION] = 1;
	f->cfg[PCI_CFG_CLASS] = (uint8_t)class_code;
	put_le16(f->cfg + PCI_CFG_CLASS + 1, (uint16_t)(class_code >> 8));
	f->cfg[PCI_CFG_HEADER_TYPE] = 0; /* type 0, single function */
	put_le16(f->cfg + PCI_CFG_SUBSYS_VENDOR, subsys_vendor);
	put_le16(f->cfg + PCI_CFG_SUBSYS_ID, subsys);
	put_le16(f->wmask + PCI_CFG_COMMAND, PCI_COMMAND_WRITABLE);
	/* The line is the OS's scratch byte: no interrupt pin behind it. */
	f->wmask[PCI_CFG_INTERRUPT_LINE] = 0xff;
}

void pci_function_destroy(struct pci_function *f)
{
	pthread_mutex_destroy(&f->lock);
}

void pci_function_add_bar_mem32(struct pci_function *f, unsigned int bar,
				uint32_t gpa, uint32_t size)
{
	unsigned int at = PCI_CFG_BAR0 + 4 * bar;

	/* Bits 3:0 say "32-bit memory, not prefetchable": zeros. */
	put_le32(f->cfg + at, gpa & ~(size - 1));
	put_le32(f->wmask + at, ~(size - 1) & ~0xfu);
}

static uint32_t get(const struct pci_function *f, unsigned int offset,
		    unsigned int len)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < len; i++)
		v |= (uint32_t)f->cfg[offset + i] << (8 * i);
	return v;
}

uint32_t pci_function_read(struct pci_function *f, unsigned int offset,
			   unsigned int len)
{
	uint32_t v;

	if (offset + len > PCI_CFG_BYTES)
		return 0;
	pthread_mutex_lock(&f->lock);
	v = get(f, offset, len);
	pthread_mutex_unlock(&f->lock);
	return v;
}

void pci_function_write(struct pci_function *f, unsigned int offset,
			unsigned int len, uint32_t value)
{
	if (offset + len > PCI_CFG_BYTES)
		return;
	pthread_mutex_lock(&f->lock);
	for (unsigned int i = 0; i < len; i++) {
		uint8_t m = f->wmask[offset + i];
		uint8_t b = (uint8_t)(value >> (8 * i));

		f->cfg[offset + i] = (uint8_t)((f->cfg[offset + i] & ~m) | (b & m));
	}
	pthread_mutex_unlock(&f->lock);
}

bool pci_function_bar_decodes(struct pci_function *f, unsigned int bar,
			      uint32_t gpa)
{
	bool on;

	pthread_mutex_lock(&f->lock);
	on = (get(f, PCI_CFG_COMMAND, 2) & PCI_COMMAND_MEMORY) &&
	     (get(f, PCI_CFG_BAR0 + 4 * bar, 4) & ~0xfu) == gpa;
	pthread_mutex_unlock(&f->lock);
	return on;
}

void pci_function_save(struct pci_function *f, struct wbuf *w)
{
	pthread_mutex_lock(&f->lock);
	wbuf_put_bytes(w, f->cfg, sizeof(f->cfg));
	pthread_mutex_unlock(&f->lock);
}

int pci_function_load(struct pci_function *f, struct rbuf *r, char *err,
		      size_t err_len)
{
	uint8_t cfg[PCI_CFG_BYTES];

	rbuf_get_bytes(r, cfg, sizeof(cfg));
	if (r->err) {
		snprintf(err, err_len, "pci %s: configuration space truncated",
			 f->name);
		return -EBADMSG;
	}
	pthread_mutex_lock(&f->lock);
	for (unsigned int i = 0; i < sizeof(cfg); i++) {
		if ((cfg[i] ^ f->cfg[i]) & ~f->wmask[i]) {
			snprintf(err, err_len,
				 "pci %s: read-only configuration byte 0x%02x is 0x%02x, this device has 0x%02x",
				 f->name, i, cfg[i], f->cfg[i]);
			pthread_mutex_unlock(&f->lock);
			return -EINVAL;
		}
	}
	memcpy(f->cfg, cfg, sizeof(cfg));
	pthread_mutex_unlock(&f->lock);
	return 0;
}
