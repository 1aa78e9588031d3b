/* SPDX-License-Identifier: MIT */
/*
 * COM1: the 16550A model (devices/uart_model.h) on ports 0x3f8-0x3ff and
 * IRQ 4, with its output going to stdout, a file or nowhere and, for stdio,
 * its input read from stdin by a thread. The registry entry is
 * uart16550_ops (devices/registry.h).
 */
#ifndef KVMTRACK_UART16550_H
#define KVMTRACK_UART16550_H

#include <stddef.h>
#include <stdint.h>

#define UART16550_COM1_PORT 0x3f8
#define UART16550_COM1_IRQ 4

/*
 * Delivers bytes to the guest as if they arrived on the serial line, for
 * callers other than the stdin reader (e.g. a control command). Takes the
 * device lock and stores only what fits without an overrun; returns the
 * bytes stored, so the caller can retry the rest once the guest has read.
 */
size_t uart16550_inject(void *state, const uint8_t *bytes, size_t n);

#endif
