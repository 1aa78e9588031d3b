/* SPDX-License-Identifier: MIT */
/*
 * One PCI function's configuration space (a type 0 header), as the guest
 * reads and writes it through the host bridge (devices/pci_host.c): the
 * bytes, and per bit whether the guest may change it. A memory BAR is
 * sized the PCI way: its address bits below the size are read-only zeros,
 * so writing all ones and reading back gives the size.
 */
#ifndef KVMTRACK_PCI_FUNCTION_H
#define KVMTRACK_PCI_FUNCTION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wbuf;
struct rbuf;

#define PCI_CFG_BYTES 256
#define PCI_CFG_VENDOR_ID 0x00
#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_BAR0 0x10
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_NR_BARS 6

struct pci_function {
	const char *name;
	/* The host bridge writes from one vCPU while the device's own
	 * handler asks from another whether its BAR decodes. */
	pthread_mutex_t lock;
	uint8_t cfg[PCI_CFG_BYTES];
	uint8_t wmask[PCI_CFG_BYTES]; /* 1: the guest may write that bit */
};

/* A function with its identity (pci_function_destroy() frees the lock): class is the 24-bit class code (base,
 * sub-class, programming interface), as `lspci -n` prints it. */
void pci_function_init(struct pci_function *f, const char *name,
		       uint16_t vendor, uint16_t device, uint32_t class_code,
		       uint16_t subsys_vendor, uint16_t subsys);

void pci_function_destroy(struct pci_function *f);

/* BAR `bar`: 32-bit, non-prefetchable memory of `size` bytes (a power of
 * two of at least 16) at `gpa`, where firmware would have put it. */
void pci_function_add_bar_mem32(struct pci_function *f, unsigned int bar,
				uint32_t gpa, uint32_t size);

/* `len` bytes (1, 2 or 4) at `offset`, little-endian; outside the space
 * reads give zero and writes are dropped, as for a register not there. */
uint32_t pci_function_read(struct pci_function *f, unsigned int offset,
			   unsigned int len);
void pci_function_write(struct pci_function *f, unsigned int offset,
			unsigned int len, uint32_t value);

/* Whether BAR `bar` decodes `gpa` now: memory decoding on, and the BAR
 * where the guest last put it. */
bool pci_function_bar_decodes(struct pci_function *f, unsigned int bar,
			      uint32_t gpa);

/* Migration: the whole space; load refuses a space whose read-only bits
 * differ from this function's (another device), naming the function. */
void pci_function_save(struct pci_function *f, struct wbuf *w);
int pci_function_load(struct pci_function *f, struct rbuf *r, char *err,
		      size_t err_len);

#endif
