/* SPDX-License-Identifier: MIT */
/*
 * The 16550A register model: pure state and register semantics, no VM, no
 * threads, no locking (the caller serialises). Output bytes and IRQ level
 * changes leave through callbacks, so the model is unit-testable on its own;
 * devices/uart16550.c wires it to the bus, the IRQ line and stdio/files.
 *
 * Transmission is instantaneous: THR is empty again as soon as it is
 * written, so LSR.THRE and LSR.TEMT always read 1.
 */
#ifndef KVMTRACK_UART_MODEL_H
#define KVMTRACK_UART_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register offsets from the base port. */
#define UART_RBR 0 /* r, DLAB=0: receive buffer */
#define UART_THR 0 /* w, DLAB=0: transmit holding */
#define UART_DLL 0 /* rw, DLAB=1: divisor latch low */
#define UART_IER 1 /* rw, DLAB=0 */
#define UART_DLM 1 /* rw, DLAB=1: divisor latch high */
#define UART_IIR 2 /* r */
#define UART_FCR 2 /* w */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_NR_REGS 8

#define UART_IER_ERBFI 0x01 /* received data available */
#define UART_IER_ETBEI 0x02 /* THR empty */
#define UART_IER_ELSI 0x04 /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_CTI 0x0c /* character timeout (FIFO mode) */
#define UART_IIR_FIFO_ON 0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04
#define UART_FCR_TRIGGER_MASK 0xc0

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_PE 0x04
#define UART_LSR_FE 0x08
#define UART_LSR_BI 0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_FIFOE 0x80
#define UART_LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

#define UART_FIFO_BYTES 16
#define UART_CLOCK_HZ 1843200u

/* Called for every byte the guest transmits (not in loopback mode). */
typedef void (*uart_tx_fn)(void *opaque, uint8_t byte);
/* Called when the IRQ output changes level (0 or 1). */
typedef void (*uart_irq_fn)(void *opaque, int level);

struct uart16550 {
	uint8_t rx_fifo[UART_FIFO_BYTES];
	unsigned int rx_head; /* index of the oldest byte */
	unsigned int rx_count;
	uint8_t ier;
	uint8_t fcr;
	uint8_t lcr;
	uint8_t mcr;
	uint8_t lsr; /* error bits only; DR, THRE, TEMT are derived */
	uint8_t msr;
	uint8_t scr;
	uint8_t dll;
	uint8_t dlm;
	bool thri_pending; /* THR-empty interrupt not yet acknowledged */
	int irq_level; /* last level reported through irq_fn */
	uint64_t tx_bytes;
	uint64_t rx_bytes;
	uint64_t rx_overruns; /* bytes lost to a full receiver */

	uart_tx_fn tx_fn;
	uart_irq_fn irq_fn;
	void *opaque;
};

/*
 * Puts u into its power-on state (IRQ low, FIFOs off, modem lines DCD, DSR
 * and CTS asserted as with a connected terminal) and installs the
 * callbacks; either callback may be NULL.
 */
void uart_init(struct uart16550 *u, uart_tx_fn tx_fn, uart_irq_fn irq_fn,
	       void *opaque);

/*
 * A guest read of register `offset` (0..7), with the side effects of the
 * hardware: reading RBR pops a byte, IIR acknowledges a THR-empty interrupt,
 * LSR clears the error bits, MSR clears the delta bits.
 */
uint8_t uart_read(struct uart16550 *u, unsigned int offset);

/* A guest write of val to register `offset` (0..7). */
void uart_write(struct uart16550 *u, unsigned int offset, uint8_t val);

/*
 * Bytes arriving on the serial line. As on hardware, a byte that finds the
 * receiver full is lost and sets LSR.OE. In loopback mode the line is
 * disconnected and nothing is received. Returns the bytes stored.
 */
unsigned int uart_receive(struct uart16550 *u, const uint8_t *bytes,
			  unsigned int n);

/* Bytes the receiver can take now without an overrun (0 in loopback). */
unsigned int uart_rx_room(const struct uart16550 *u);

struct wbuf;
struct rbuf;

/*
 * Migration: uart_save appends every register, the divisor, the receive
 * FIFO (oldest byte first), the interrupt state and the counters, field by
 * field. uart_load reads them back into u (callbacks kept), checking each
 * against what the hardware can hold; the IRQ level must be the one the
 * registers imply. Returns 0, or -EBADMSG (short) / -EINVAL (impossible
 * value) with the field named in err; u is unchanged on error. Neither
 * calls a callback: the interrupt controllers' state travels with KVM's.
 */
#define UART_STATE_VERSION 1u
void uart_save(const struct uart16550 *u, struct wbuf *w);
int uart_load(struct uart16550 *u, struct rbuf *r, char *err, size_t err_len);

/* The divisor latch, and the baud rate it selects (0 if the divisor is 0). */
unsigned int uart_divisor(const struct uart16550 *u);
unsigned int uart_baud(const struct uart16550 *u);

#endif
