// SPDX-License-Identifier: MIT
/*
 * The 16550A register model on its own: register values, interrupt
 * identification and priorities, IRQ line transitions, FIFO and overrun,
 * loopback and the divisor latch.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "devices/uart_model.h"

struct uart_probe {
	struct uart16550 u;
	uint8_t tx[64];
	unsigned int nr_tx;
	int irq_levels[64]; /* every level change, in order */
	unsigned int nr_irq;
};

static struct uart_probe p;

static void probe_tx(void *opaque, uint8_t byte)
{
	struct uart_probe *pr = opaque;

	cr_assert_lt(pr->nr_tx, sizeof(pr->tx));
	pr->tx[pr->nr_tx++] = byte;
}

static void probe_irq(void *opaque, int level)
{
	struct uart_probe *pr = opaque;

	cr_assert_lt(pr->nr_irq, 64);
	pr->irq_levels[pr->nr_irq++] = level;
}

static void setup(void)
{
	memset(&p, 0, sizeof(p));
	uart_init(&p.u, probe_tx, probe_irq, &p);
}

static void receive_str(const char *s)
{
	uart_receive(&p.u, (const uint8_t *)s, (unsigned int)strlen(s));
}

TestSuite(uart, .init = setup);

Test(uart, power_on_state)
{
	cr_assert_eq(uart_read(&p.u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	cr_assert_eq(uart_read(&p.u, UART_IIR), UART_IIR_NO_INT);
	cr_assert_eq(uart_read(&p.u, UART_IER), 0);
	cr_assert_eq(uart_read(&p.u, UART_MCR), 0);
	cr_assert_eq(uart_read(&p.u, UART_MSR),
		     UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	cr_assert_eq(p.nr_irq, 0);
}

Test(uart, transmit_goes_to_callback)
{
	uart_write(&p.u, UART_THR, 'o');
	uart_write(&p.u, UART_THR, 'k');
	cr_assert_eq(p.nr_tx, 2);
	cr_assert_eq(memcmp(p.tx, "ok", 2), 0);
	cr_assert_eq(p.u.tx_bytes, 2);
	cr_assert_eq(uart_read(&p.u, UART_LSR) & UART_LSR_THRE, UART_LSR_THRE);
}

Test(uart, dlab_selects_divisor_latch)
{
	uart_write(&p.u, UART_LCR, UART_LCR_DLAB | 0x03);
	uart_write(&p.u, UART_DLL, 0x01);
	uart_write(&p.u, UART_DLM, 0x00);
	cr_assert_eq(uart_read(&p.u, UART_DLL), 0x01);
	cr_assert_eq(uart_read(&p.u, UART_DLM), 0x00);
	cr_assert_eq(uart_divisor(&p.u), 1);
	cr_assert_eq(uart_baud(&p.u), 115200);
	/* Divisor writes neither transmit nor touch IER. */
	cr_assert_eq(p.nr_tx, 0);
	uart_write(&p.u, UART_LCR, 0x03);
	cr_assert_eq(uart_read(&p.u, UART_IER), 0);
	uart_write(&p.u, UART_THR, 'x');
	uart_write(&p.u, UART_IER, UART_IER_ERBFI);
	cr_assert_eq(p.nr_tx, 1);
	cr_assert_eq(uart_read(&p.u, UART_IER), UART_IER_ERBFI);
	cr_assert_eq(uart_divisor(&p.u), 1, "THR/IER writes changed DLL/DLM");
	uart_write(&p.u, UART_LCR, UART_LCR_DLAB);
	uart_write(&p.u, UART_DLM, 0x03);
	cr_assert_eq(uart_divisor(&p.u), 0x301);
	cr_assert_eq(uart_read(&p.u, UART_LCR), UART_LCR_DLAB);
}

Test(uart, receive_sets_dr_and_rbr_pops)
{
	uart_write(&p.u, UART_IER, UART_IER_ERBFI);
	receive_str("a");
	cr_assert(uart_read(&p.u, UART_LSR) & UART_LSR_DR);
	cr_assert_eq(uart_read(&p.u, UART_IIR), UART_IIR_RDI);
	cr_assert_eq(uart_read(&p.u, UART_RBR), 'a');
	cr_assert_eq(uart_read(&p.u, UART_LSR) & UART_LSR_DR, 0);
	cr_assert_eq(uart_read(&p.u, UART_IIR), UART_IIR_NO_INT);
}

Test(uart, fifo_overflow_sets_oe)
{
	uint8_t bytes[20];

	for (unsigned int i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)('A' + i);
	uart_write(&p.u, UART_FCR, UART_FCR_ENABLE);
	cr_assert_eq(uart_rx_room(&p.u), 16);
	cr_assert_eq(uart_receive(&p.u, bytes, sizeof(bytes)), 16);
	cr_assert_eq(p.u.rx_overruns, 4);
	cr_assert_eq(uart_rx_room(&p.u), 0);
	cr_assert_eq(uart_read(&p.u, UART_LSR),
		     UART_LSR_DR | UART_LSR_OE | UART_LSR_THRE | UART_LSR_TEMT);
	/* Reading LSR clears OE; the FIFO kept the first 16 bytes. */
	cr_assert_eq(uart_read(&p.u, UART_LSR) & UART_LSR_OE, 0);
	for (unsigned int i = 0; i < 16; i++)
		cr_assert_eq(uart_read(&p.u, UART_RBR), 'A' + i);
	cr_assert_eq(uart_read(&p.u, UART_LSR) & UART_LSR_DR, 0);
}

Test(uart, overrun_without_fifo_overwrites_holding_register)
{
	cr_assert_eq(uart_rx_room(&p.u), 1);
	receive_str("ab");
	cr_assert(uart_read(&p.u, UART_LSR) & UART_LSR_OE);
	cr_assert_eq(uart_read(&p.u, UART_RBR), 'b');
	cr_assert_eq(uart_read(&p.u, UART_LSR) & UART_LSR_DR, 0);
}

Test(uart, iir_priorities)
{
	uint8_t bytes[17] = { 0 };

	uart_write(&p.u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	/* A trip through loopback leaves modem-status deltas behind. */
	uart_write(&p.u, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	uart_write(&p.u, UART_MCR, UART_MCR_OUT2);
	uart_write(&p.u, UART_IER, 0x0f);
	uart_receive(&p.u, bytes, sizeof(bytes));
	cr_assert_eq(p.u.irq_level, 1);

	cr_assert_eq(uart_read(&p.u, UART_IIR),
		     UART_IIR_FIFO_ON | UART_IIR_RLSI);
	uart_read(&p.u, UART_LSR);
	cr_assert_eq(uart_read(&p.u, UART_IIR),
		     UART_IIR_FIFO_ON | UART_IIR_RDI);
	for (int i = 0; i < 16; i++)
		uart_read(&p.u, UART_RBR);
	cr_assert_eq(uart_read(&p.u, UART_IIR),
		     UART_IIR_FIFO_ON | UART_IIR_THRI);
	/* That read acknowledged THRE; modem status is next. */
	cr_assert_eq(uart_read(&p.u, UART_IIR),
		     UART_IIR_FIFO_ON | UART_IIR_MSI);
	cr_assert_eq(p.u.irq_level, 1);
	cr_assert_eq(uart_read(&p.u, UART_MSR) & 0x0f,
		     UART_MSR_DCTS | UART_MSR_DDSR);
	cr_assert_eq(uart_read(&p.u, UART_IIR),
		     UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	cr_assert_eq(p.u.irq_level, 0);
	cr_assert_eq(p.irq_levels[p.nr_irq - 1], 0);
}

Test(uart, iir_read_keeps_thre_when_not_the_source)
{
	uart_write(&p.u, UART_MCR, UART_MCR_OUT2);
	uart_write(&p.u, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
	receive_str("z");
	cr_assert_eq(uart_read(&p.u, UART_IIR), UART_IIR_RDI);
	cr_assert_eq(uart_read(&p.u, UART_RBR), 'z');
	cr_assert_eq(uart_read(&p.u, UART_IIR), UART_IIR_THRI);
	cr_assert_eq(uart_read(&p.u, UART_IIR), UART_IIR_NO_INT);
}

Test(uart, character_timeout_below_trigger_level)
{
	uint8_t bytes[14] = { 0 };

	uart_write(&p.u, UART_FCR, UART_FCR_ENABLE | 0xc0); /* trigger 14 */
	uart_write(&p.u, UART_IER, UART_IER_ERBFI);
	uart_receive(&p.u, bytes, 3);
	cr_assert_eq(uart_read(&p.u, UART_IIR),
		     UART_IIR_FIFO_ON | UART_IIR_CTI);
	uart_receive(&p.u, bytes, 11);
	cr_assert_eq(uart_read(&p.u, UART_IIR),
		     UART_IIR_FIFO_ON | UART_IIR_RDI);
}

Test(uart, thre_interrupt_edges)
{
	const int want[] = { 1, 0, 1, 0, 1 };

	uart_write(&p.u, UART_MCR, UART_MCR_OUT2);
	/* Enabling ETBEI with THR empty raises the interrupt at once. */
	uart_write(&p.u, UART_IER, UART_IER_ETBEI);
	cr_assert_eq(p.nr_irq, 1);
	cr_assert_eq(uart_read(&p.u, UART_IIR), UART_IIR_THRI);
	cr_assert_eq(p.nr_irq, 2, "reading IIR did not lower the line");
	/* Each byte written gives one rising edge. */
	uart_write(&p.u, UART_THR, '1');
	uart_write(&p.u, UART_THR, '2');
	cr_assert_eq(p.nr_irq, 5);
	cr_assert_eq(memcmp(p.irq_levels, want, sizeof(want)), 0);
	cr_assert_eq(p.nr_tx, 2);
	/* Disabling ETBEI drops the pending interrupt. */
	uart_write(&p.u, UART_IER, 0);
	cr_assert_eq(p.u.irq_level, 0);
	cr_assert_eq(uart_read(&p.u, UART_IIR), UART_IIR_NO_INT);
}

Test(uart, out2_gates_the_irq_line)
{
	uart_write(&p.u, UART_IER, UART_IER_ERBFI);
	receive_str("q");
	cr_assert_eq(p.nr_irq, 0, "IRQ raised with OUT2 clear");
	uart_write(&p.u, UART_MCR, UART_MCR_OUT2);
	cr_assert_eq(p.nr_irq, 1);
	cr_assert_eq(p.irq_levels[0], 1);
	uart_read(&p.u, UART_RBR);
	cr_assert_eq(p.nr_irq, 2);
	cr_assert_eq(p.irq_levels[1], 0);
}

Test(uart, line_status_interrupt_needs_elsi)
{
	uart_write(&p.u, UART_MCR, UART_MCR_OUT2);
	receive_str("xy");
	cr_assert_eq(uart_read(&p.u, UART_IIR), UART_IIR_NO_INT);
	uart_write(&p.u, UART_IER, UART_IER_ELSI);
	cr_assert_eq(uart_read(&p.u, UART_IIR), UART_IIR_RLSI);
	cr_assert_eq(p.u.irq_level, 1);
	uart_read(&p.u, UART_LSR);
	cr_assert_eq(p.u.irq_level, 0);
}

Test(uart, loopback_returns_thr_to_rbr)
{
	uart_write(&p.u, UART_MCR, UART_MCR_LOOP);
	uart_write(&p.u, UART_THR, 'L');
	cr_assert_eq(p.nr_tx, 0, "loopback byte reached the output");
	cr_assert(uart_read(&p.u, UART_LSR) & UART_LSR_DR);
	cr_assert_eq(uart_read(&p.u, UART_RBR), 'L');
	/* The serial input is disconnected meanwhile. */
	cr_assert_eq(uart_rx_room(&p.u), 0);
	cr_assert_eq(uart_receive(&p.u, (const uint8_t *)"x", 1), 0);
	cr_assert_eq(uart_read(&p.u, UART_LSR) & UART_LSR_DR, 0);
}

Test(uart, loopback_wires_modem_lines)
{
	uart_write(&p.u, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS |
					   UART_MCR_OUT1 | UART_MCR_OUT2);
	cr_assert_eq(uart_read(&p.u, UART_MSR) & 0xf0, 0xf0);
	uart_write(&p.u, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	/* CTS stays; DSR, DCD fall; RI's trailing edge sets TERI. */
	cr_assert_eq(uart_read(&p.u, UART_MSR),
		     UART_MSR_CTS | UART_MSR_DDSR | UART_MSR_DDCD |
			     UART_MSR_TERI);
	cr_assert_eq(uart_read(&p.u, UART_MSR), UART_MSR_CTS);
}

Test(uart, fcr_clears_and_toggles_fifo)
{
	uart_write(&p.u, UART_FCR, UART_FCR_ENABLE);
	receive_str("abc");
	cr_assert_eq(uart_read(&p.u, UART_IIR) & UART_IIR_FIFO_ON,
		     UART_IIR_FIFO_ON);
	uart_write(&p.u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	cr_assert_eq(uart_read(&p.u, UART_LSR) & UART_LSR_DR, 0);
	receive_str("de");
	/* Turning the FIFO off empties it and clears IIR's FIFO bits. */
	uart_write(&p.u, UART_FCR, 0);
	cr_assert_eq(uart_read(&p.u, UART_LSR) & UART_LSR_DR, 0);
	cr_assert_eq(uart_read(&p.u, UART_IIR), UART_IIR_NO_INT);
	cr_assert_eq(uart_rx_room(&p.u), 1);
}

Test(uart, scratch_register_holds_value)
{
	uart_write(&p.u, UART_SCR, 0x5a);
	cr_assert_eq(uart_read(&p.u, UART_SCR), 0x5a);
	/* LSR is read-only. */
	uart_write(&p.u, UART_LSR, 0x00);
	cr_assert_eq(uart_read(&p.u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
}
