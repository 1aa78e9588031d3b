/* SPDX-License-Identifier: MIT */
/* The 16550 UART the console writes to. */
#ifndef KVMTRACK_GUEST_LIB_SERIAL_H
#define KVMTRACK_GUEST_LIB_SERIAL_H

#include <stddef.h>
#include <stdint.h>

/* Programs the 16550 at port (8N1, FIFOs on); before this, output is lost. */
void serial_init(uint16_t port);
/* Writes len bytes; the caller holds the console lock. */
void serial_write(const char *buf, size_t len);

#endif
