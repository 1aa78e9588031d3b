// SPDX-License-Identifier: MIT
/*
 * 16550 UART output. Every port access from CPL3 is an exit (~34 us on
 * the build machines), so the driver reads LSR only when it has to: once
 * THR-empty is seen with the FIFOs on, 16 bytes can go without another
 * look.
 */
#include "guest/lib/serial.h"

#include "guest/lib/x86.h"

#define UART_THR 0
#define UART_IER 1
#define UART_DLL 0
#define UART_DLM 1
#define UART_FCR 2
#define UART_IIR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07
#define IIR_FIFO_ON 0xc0
#define MCR_DTR_RTS 0x03 /* OUT2 stays off: no interrupts wanted */
#define LSR_THRE 0x20
#define FIFO_BYTES 16

static uint16_t serial_port;
static unsigned int tx_burst = 1;

void serial_init(uint16_t port)
{
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, 1); /* 115200 baud */
	outb(port + UART_DLM, 0);
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, FCR_ENABLE_CLEAR);
	outb(port + UART_MCR, MCR_DTR_RTS);
	/* A 16450 (or a model without FIFOs) takes one byte per THRE. */
	tx_burst = (inb(port + UART_IIR) & IIR_FIFO_ON) == IIR_FIFO_ON ?
			   FIFO_BYTES :
			   1;
	serial_port = port;
}

void serial_write(const char *buf, size_t len)
{
	uint16_t port = serial_port;
	unsigned int i;

	if (!port)
		return;
	while (len) {
		while (!(inb(port + UART_LSR) & LSR_THRE))
			cpu_relax();
		for (i = 0; i < tx_burst && len; i++, len--)
			outb(port + UART_THR, *buf++);
	}
}
