// SPDX-License-Identifier: MIT
/*
 * 16550A register semantics (see uart_model.h). Register behaviour follows
 * the National/TI PC16550D data sheet; where the data sheet leaves room,
 * the choice made here is the one PC drivers (Linux 8250, BIOS-style polled
 * output) rely on, and the comment says so.
 */
#include "devices/uart_model.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/wire.h"

static const unsigned int rx_trigger_bytes[4] = { 1, 4, 8, 14 };

static bool fifo_enabled(const struct uart16550 *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

static unsigned int rx_capacity(const struct uart16550 *u)
{
	/* With the FIFO off the receiver is a single holding register. */
	return fifo_enabled(u) ? UART_FIFO_BYTES : 1;
}

static unsigned int rx_trigger(const struct uart16550 *u)
{
	return rx_trigger_bytes[(u->fcr & UART_FCR_TRIGGER_MASK) >> 6];
}

/* The highest-priority enabled interrupt, as IIR bits 3:0. */
static uint8_t pending_iid(const struct uart16550 *u)
{
	if ((u->ier & UART_IER_ELSI) && (u->lsr & UART_LSR_ERRORS))
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_ERBFI) && u->rx_count) {
		/*
		 * Below the trigger level hardware raises a character timeout
		 * after four idle character times. Bytes arrive here in whole
		 * writes and nothing more follows until the next one, so the
		 * line is already idle: report the timeout at once rather than
		 * run a host timer.
		 */
		if (fifo_enabled(u) && u->rx_count < rx_trigger(u))
			return UART_IIR_CTI;
		return UART_IIR_RDI;
	}
	if ((u->ier & UART_IER_ETBEI) && u->thri_pending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_EDSSI) && (u->msr & 0x0f))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/* PC boards gate the UART's interrupt output with MCR.OUT2. */
static void update_irq(struct uart16550 *u)
{
	int level = pending_iid(u) != UART_IIR_NO_INT &&
		    (u->mcr & UART_MCR_OUT2);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->irq_fn)
		u->irq_fn(u->opaque, level);
}

static void rx_clear(struct uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* Stores one received byte; returns false on an overrun. */
static bool rx_push(struct uart16550 *u, uint8_t byte)
{
	if (u->rx_count >= rx_capacity(u)) {
		u->lsr |= UART_LSR_OE;
		u->rx_overruns++;
		/*
		 * Without a FIFO the new byte overwrites the holding register;
		 * with one, the FIFO keeps its contents and the byte in the
		 * shift register is lost (data sheet, LSR bit 1).
		 */
		if (!fifo_enabled(u))
			u->rx_fifo[u->rx_head] = byte;
		return false;
	}
	u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_BYTES] = byte;
	u->rx_count++;
	u->rx_bytes++;
	return true;
}

static uint8_t rx_pop(struct uart16550 *u)
{
	uint8_t byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx_fifo[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_BYTES;
	u->rx_count--;
	return byte;
}

/* Modem input lines: wired back to MCR in loopback, a terminal otherwise. */
static uint8_t modem_lines(const struct uart16550 *u)
{
	uint8_t lines = 0;

	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	if (u->mcr & UART_MCR_RTS)
		lines |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_DTR)
		lines |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_OUT1)
		lines |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		lines |= UART_MSR_DCD;
	return lines;
}

/* Latches new line levels and the delta bits their change implies. */
static void msr_set_lines(struct uart16550 *u, uint8_t lines)
{
	uint8_t old = u->msr & 0xf0;
	uint8_t changed = old ^ lines;
	uint8_t deltas = u->msr & 0x0f;

	if (changed & UART_MSR_CTS)
		deltas |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		deltas |= UART_MSR_DDSR;
	if (changed & UART_MSR_DCD)
		deltas |= UART_MSR_DDCD;
	/* TERI flags only the trailing edge of ring indicate. */
	if ((old & UART_MSR_RI) && !(lines & UART_MSR_RI))
		deltas |= UART_MSR_TERI;
	u->msr = lines | deltas;
}

void uart_init(struct uart16550 *u, uart_tx_fn tx_fn, uart_irq_fn irq_fn,
	       void *opaque)
{
	memset(u, 0, sizeof(*u));
	u->tx_fn = tx_fn;
	u->irq_fn = irq_fn;
	u->opaque = opaque;
	u->msr = modem_lines(u);
	/* 9600 baud, what PC firmware leaves behind. */
	u->dll = 12;
}

static uint8_t read_lsr(struct uart16550 *u)
{
	uint8_t val = u->lsr | UART_LSR_THRE | UART_LSR_TEMT;

	if (u->rx_count)
		val |= UART_LSR_DR;
	u->lsr &= (uint8_t)~UART_LSR_ERRORS;
	update_irq(u);
	return val;
}

static uint8_t read_iir(struct uart16550 *u)
{
	uint8_t iid = pending_iid(u);

	/* Reading IIR acknowledges a THR-empty interrupt it reports. */
	if (iid == UART_IIR_THRI) {
		u->thri_pending = false;
		update_irq(u);
	}
	return iid | (fifo_enabled(u) ? UART_IIR_FIFO_ON : 0);
}

uint8_t uart_read(struct uart16550 *u, unsigned int offset)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t val;

	switch (offset) {
	case UART_RBR:
		if (dlab)
			return u->dll;
		val = rx_pop(u);
		update_irq(u);
		return val;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return read_lsr(u);
	case UART_MSR:
		val = u->msr;
		u->msr &= 0xf0;
		update_irq(u);
		return val;
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

static void write_thr(struct uart16550 *u, uint8_t val)
{
	/*
	 * Writing THR acknowledges the THR-empty interrupt; the byte leaves
	 * at once and THR is empty again. Lowering and re-raising the line
	 * gives an edge-triggered interrupt controller one edge per byte.
	 */
	u->thri_pending = false;
	update_irq(u);
	u->tx_bytes++;
	if (u->mcr & UART_MCR_LOOP)
		rx_push(u, val);
	else if (u->tx_fn)
		u->tx_fn(u->opaque, val);
	u->thri_pending = true;
	update_irq(u);
}

static void write_ier(struct uart16550 *u, uint8_t val)
{
	uint8_t changed = (u->ier ^ val) & 0x0f;

	u->ier = val & 0x0f;
	/*
	 * Enabling ETBEI while THR is empty (always, here) raises the
	 * interrupt at once: Linux's 8250 driver starts transmission by
	 * enabling it and waiting for that interrupt.
	 */
	if (changed & UART_IER_ETBEI)
		u->thri_pending = u->ier & UART_IER_ETBEI;
	update_irq(u);
}

static void write_fcr(struct uart16550 *u, uint8_t val)
{
	uint8_t old_enable = u->fcr & UART_FCR_ENABLE;

	/* The other FCR bits are programmed only together with bit 0. */
	if (!(val & UART_FCR_ENABLE))
		u->fcr = 0;
	else
		u->fcr = val & (UART_FCR_ENABLE | UART_FCR_TRIGGER_MASK);
	/* Switching the FIFOs on or off empties them. */
	if (old_enable != (u->fcr & UART_FCR_ENABLE) ||
	    (u->fcr & UART_FCR_ENABLE && val & UART_FCR_CLEAR_RX))
		rx_clear(u);
	update_irq(u);
}

static void write_mcr(struct uart16550 *u, uint8_t val)
{
	u->mcr = val & 0x1f;
	msr_set_lines(u, modem_lines(u));
	update_irq(u);
}

void uart_write(struct uart16550 *u, unsigned int offset, uint8_t val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_THR:
		if (dlab)
			u->dll = val;
		else
			write_thr(u, val);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = val;
		else
			write_ier(u, val);
		break;
	case UART_FCR:
		write_fcr(u, val);
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		write_mcr(u, val);
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default:
		/* LSR and MSR are read-only (factory test writes ignored). */
		break;
	}
}

unsigned int uart_receive(struct uart16550 *u, const uint8_t *bytes,
			  unsigned int n)
{
	unsigned int stored = 0;

	/* Loopback disconnects the serial input from the receiver. */
	if (u->mcr & UART_MCR_LOOP)
		return 0;
	for (unsigned int i = 0; i < n; i++)
		stored += rx_push(u, bytes[i]);
	update_irq(u);
	return stored;
}

unsigned int uart_rx_room(const struct uart16550 *u)
{
	if (u->mcr & UART_MCR_LOOP)
		return 0;
	return rx_capacity(u) - u->rx_count;
}

unsigned int uart_divisor(const struct uart16550 *u)
{
	return (unsigned int)u->dlm << 8 | u->dll;
}

unsigned int uart_baud(const struct uart16550 *u)
{
	unsigned int divisor = uart_divisor(u);

	return divisor ? UART_CLOCK_HZ / (16 * divisor) : 0;
}

/* --- migration ---------------------------------------------------------- */

void uart_save(const struct uart16550 *u, struct wbuf *w)
{
	wbuf_put_u8(w, u->ier);
	wbuf_put_u8(w, u->fcr);
	wbuf_put_u8(w, u->lcr);
	wbuf_put_u8(w, u->mcr);
	wbuf_put_u8(w, u->lsr);
	wbuf_put_u8(w, u->msr);
	wbuf_put_u8(w, u->scr);
	wbuf_put_u8(w, u->dll);
	wbuf_put_u8(w, u->dlm);
	wbuf_put_u8(w, u->thri_pending);
	wbuf_put_u8(w, (uint8_t)u->irq_level);
	wbuf_put_u8(w, (uint8_t)u->rx_count);
	for (unsigned int i = 0; i < u->rx_count; i++)
		wbuf_put_u8(w, u->rx_fifo[(u->rx_head + i) % UART_FIFO_BYTES]);
	wbuf_put_u64(w, u->tx_bytes);
	wbuf_put_u64(w, u->rx_bytes);
	wbuf_put_u64(w, u->rx_overruns);
}

/* The first register value the hardware could not hold, or NULL. */
static const char *uart_bad_field(const struct uart16550 *u, uint8_t thri,
				  uint8_t irq_level)
{
	if (u->ier & ~0x0fu)
		return "ier";
	if (u->fcr & ~(unsigned int)(UART_FCR_ENABLE | UART_FCR_TRIGGER_MASK))
		return "fcr";
	if (u->mcr & ~0x1fu)
		return "mcr";
	if (u->lsr & ~(unsigned int)UART_LSR_ERRORS)
		return "lsr";
	if (thri > 1)
		return "thri_pending";
	if (u->rx_count > rx_capacity(u))
		return "rx_count";
	if (irq_level > 1)
		return "irq_level";
	return NULL;
}

int uart_load(struct uart16550 *u, struct rbuf *r, char *err, size_t err_len)
{
	struct uart16550 n = *u; /* keeps the callbacks */
	uint8_t thri, irq_level, level_now;
	const char *bad;

	n.ier = rbuf_get_u8(r);
	n.fcr = rbuf_get_u8(r);
	n.lcr = rbuf_get_u8(r);
	n.mcr = rbuf_get_u8(r);
	n.lsr = rbuf_get_u8(r);
	n.msr = rbuf_get_u8(r);
	n.scr = rbuf_get_u8(r);
	n.dll = rbuf_get_u8(r);
	n.dlm = rbuf_get_u8(r);
	thri = rbuf_get_u8(r);
	irq_level = rbuf_get_u8(r);
	n.rx_head = 0;
	n.rx_count = rbuf_get_u8(r);
	if (!r->err && n.rx_count <= UART_FIFO_BYTES)
		rbuf_get_bytes(r, n.rx_fifo, n.rx_count);
	n.tx_bytes = rbuf_get_u64(r);
	n.rx_bytes = rbuf_get_u64(r);
	n.rx_overruns = rbuf_get_u64(r);
	if (r->err) {
		snprintf(err, err_len, "uart: state truncated");
		return -EBADMSG;
	}
	n.thri_pending = thri;
	bad = uart_bad_field(&n, thri, irq_level);
	level_now = pending_iid(&n) != UART_IIR_NO_INT &&
		    (n.mcr & UART_MCR_OUT2);
	if (!bad && irq_level != level_now)
		bad = "irq_level (differs from what the registers imply)";
	if (bad) {
		snprintf(err, err_len, "uart: impossible %s", bad);
		return -EINVAL;
	}
	n.irq_level = irq_level;
	*u = n;
	return 0;
}
