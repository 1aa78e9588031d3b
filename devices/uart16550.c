// SPDX-License-Identifier: MIT
/*
 * COM1 device glue: the register model behind the port bus, one mutex for
 * the vCPU threads and the stdin reader, the IRQ line, the output sink and
 * the input thread.
 */
#include "devices/uart16550.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "devices/devices.h"
#include "devices/uart_model.h"
#include "lib/json/json.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "vmm/mem/bus.h"
#include "vmm/vm.h"

/* A line of console output, or what fits: see uart_tx_byte(). */
#define UART_TX_BATCH_BYTES 256

struct uart_dev {
	pthread_mutex_t lock; /* guards everything below except the reader */
	pthread_cond_t rx_room; /* signalled when the guest may have read */
	struct uart16550 model;
	struct vm *vm;
	enum serial_kind kind;
	const char *out_path;
	int out_fd; /* -1: output discarded */
	uint64_t tx_errors;
	bool tx_error_logged;
	/* Transmitted, not yet written to out_fd (see uart_tx_byte()). */
	uint8_t tx_buf[UART_TX_BATCH_BYTES];
	unsigned int tx_len;
	bool irq_error_logged;

	/* stdin reader (SERIAL_STDIO only) */
	bool reader_started;
	bool reader_waiting; /* blocked on rx_room */
	bool guest_listening; /* guest has polled LSR or enabled ERBFI */
	bool stopping;
	pthread_t reader;
	int wake_pipe[2]; /* written by exit() to end the reader's poll */
	bool term_saved;
	struct termios saved_term;
};

/* Writes what the guest transmitted so far. Device lock held. */
static void tx_flush(struct uart_dev *d)
{
	ssize_t n;

	if (!d->tx_len)
		return;
	do {
		n = write(d->out_fd, d->tx_buf, d->tx_len);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)d->tx_len) {
		d->tx_errors++;
		if (!d->tx_error_logged) {
			d->tx_error_logged = true;
			log_err("serial: write to %s failed: %s (output is dropped)",
				d->out_path,
				n < 0 ? strerror(errno) : "short write");
		}
	}
	d->tx_len = 0;
}

/*
 * Model callback, device lock held. Bytes are written a line at a time:
 * Linux's 8250 driver sends up to 16 bytes to THR back to back, and one
 * write() each woke a reader of the console per byte (a console logger,
 * the benchmarks' harness): ~0.15 ms of CPU a byte in the test VM, 13 %
 * of a CPU for a guest printing 100 short lines a second. Any other
 * access to the UART flushes (uart_access()), as does a full buffer, a
 * state save and the exit: a driver reads IIR or LSR after its burst, so
 * a prompt without a newline still appears at once.
 */
static void uart_tx_byte(void *opaque, uint8_t byte)
{
	struct uart_dev *d = opaque;

	if (d->out_fd < 0)
		return;
	d->tx_buf[d->tx_len++] = byte;
	if (byte == '\n' || d->tx_len == sizeof(d->tx_buf))
		tx_flush(d);
}

/* Model callback, device lock held. */
static void uart_irq(void *opaque, int level)
{
	struct uart_dev *d = opaque;
	int err = vm_irq_line(d->vm, UART16550_COM1_IRQ, level);

	if (err && !d->irq_error_logged) {
		d->irq_error_logged = true;
		log_err("serial: cannot set IRQ %d to %d: %s",
			UART16550_COM1_IRQ, level, strerror(-err));
	}
}

static int uart_access(void *opaque, uint64_t offset, uint8_t *data,
		       uint32_t len, bool is_write)
{
	struct uart_dev *d = opaque;

	pthread_mutex_lock(&d->lock);
	if (!is_write || offset != UART_THR || (d->model.lcr & UART_LCR_DLAB))
		tx_flush(d);
	/* A wide access is a run of byte accesses, as on the ISA bus. */
	for (uint32_t i = 0; i < len && offset + i < UART_NR_REGS; i++) {
		unsigned int reg = (unsigned int)(offset + i);

		if (is_write)
			uart_write(&d->model, reg, data[i]);
		else
			data[i] = uart_read(&d->model, reg);
		if ((!is_write && reg == UART_LSR) ||
		    (d->model.ier & UART_IER_ERBFI))
			d->guest_listening = true;
	}
	if (d->reader_waiting && d->guest_listening &&
	    uart_rx_room(&d->model))
		pthread_cond_signal(&d->rx_room);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* Feeds buf to the receiver as fast as the guest drains it. */
static void reader_feed(struct uart_dev *d, const uint8_t *buf, size_t n)
{
	size_t done = 0;

	pthread_mutex_lock(&d->lock);
	while (done < n && !d->stopping) {
		unsigned int room = uart_rx_room(&d->model);

		/*
		 * Input waits until the guest looks for it: bytes fed earlier
		 * would be lost when the guest's UART set-up empties the FIFO.
		 */
		if (!d->guest_listening)
			room = 0;
		if (!room) {
			/* Typed input waits for the guest, never overruns. */
			d->reader_waiting = true;
			pthread_cond_wait(&d->rx_room, &d->lock);
			d->reader_waiting = false;
			continue;
		}
		if (room > n - done)
			room = (unsigned int)(n - done);
		done += uart_receive(&d->model, buf + done, room);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Waits for input; returns bytes read, 0 at EOF, on error or when asked to
 * stop. */
static ssize_t reader_wait_read(struct uart_dev *d, uint8_t *buf, size_t len)
{
	struct pollfd fds[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = d->wake_pipe[0], .events = POLLIN },
	};
	ssize_t n;

	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (fds[1].revents || (fds[0].revents & POLLNVAL))
			return 0;
		if (!fds[0].revents)
			continue;
		n = read(STDIN_FILENO, buf, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return n < 0 ? 0 : n;
	}
}

static void *reader_main(void *opaque)
{
	struct uart_dev *d = opaque;
	uint8_t buf[256];
	ssize_t n;

	/* EOF on stdin ends input, not the VM. */
	while ((n = reader_wait_read(d, buf, sizeof(buf))) > 0)
		reader_feed(d, buf, (size_t)n);
	return NULL;
}

/*
 * A terminal on stdin goes character-at-a-time without echo: the guest
 * echoes. ISIG stays on so that ^C still reaches kvmtrack and stops it.
 */
static void term_raw(struct uart_dev *d)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &d->saved_term))
		return;
	t = d->saved_term;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | IEXTEN);
	t.c_iflag &= ~(tcflag_t)(ICRNL | INLCR | IXON);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (!tcsetattr(STDIN_FILENO, TCSANOW, &t))
		d->term_saved = true;
}

static void term_restore(struct uart_dev *d)
{
	if (d->term_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &d->saved_term);
	d->term_saved = false;
}

static int reader_start(struct uart_dev *d)
{
	int err;

	/* A background job reading its terminal would be stopped (SIGTTIN). */
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) != getpgrp())
		return 0;
	if (pipe2(d->wake_pipe, O_CLOEXEC)) {
		err = -errno;
		log_err("serial: cannot create the reader's pipe: %s",
			strerror(-err));
		return err;
	}
	if (isatty(STDIN_FILENO))
		term_raw(d);
	err = -pthread_create(&d->reader, NULL, reader_main, d);
	if (err) {
		log_err("serial: cannot start the stdin reader: %s",
			strerror(-err));
		goto err_restore_term;
	}
	d->reader_started = true;
	return 0;

err_restore_term:
	term_restore(d);
	close(d->wake_pipe[0]);
	close(d->wake_pipe[1]);
	return err;
}

static void reader_stop(struct uart_dev *d)
{
	if (!d->reader_started)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_broadcast(&d->rx_room);
	pthread_mutex_unlock(&d->lock);
	/* The pipe ends the poll; the flag ends a wait for room. */
	while (write(d->wake_pipe[1], "", 1) < 0 && errno == EINTR)
		;
	pthread_join(d->reader, NULL);
	d->reader_started = false;
	close(d->wake_pipe[0]);
	close(d->wake_pipe[1]);
	term_restore(d);
}

static int open_output(struct uart_dev *d, const struct serial_config *cfg)
{
	int err;

	d->kind = cfg->kind;
	d->out_fd = -1;
	switch (cfg->kind) {
	case SERIAL_STDIO:
		d->out_path = "stdout";
		d->out_fd = STDOUT_FILENO;
		return 0;
	case SERIAL_FILE:
		d->out_path = cfg->path;
		d->out_fd = open(cfg->path,
				 O_CREAT | O_TRUNC | O_WRONLY | O_APPEND |
					 O_CLOEXEC,
				 0644);
		if (d->out_fd >= 0)
			return 0;
		err = -errno;
		log_err("serial: cannot open output file %s: %s", cfg->path,
			strerror(-err));
		return err;
	case SERIAL_NONE:
		d->out_path = "nothing";
		return 0;
	}
	return -EINVAL;
}

static void close_output(struct uart_dev *d)
{
	if (d->kind == SERIAL_FILE && d->out_fd >= 0)
		close(d->out_fd);
	d->out_fd = -1;
}

static void uart_free(struct uart_dev *d)
{
	pthread_cond_destroy(&d->rx_room);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static int uart_dev_init(struct vm *vm, void **state)
{
	struct uart_dev *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->rx_room, NULL);
	d->vm = vm;
	uart_init(&d->model, uart_tx_byte, uart_irq, d);
	err = open_output(d, &vm_config(vm)->serial);
	if (err)
		goto err_free;
	if (d->kind == SERIAL_STDIO) {
		err = reader_start(d);
		if (err)
			goto err_close_output;
	}
	/* Last: the bus keeps the pointer and has no way to drop it. */
	err = bus_register(vm_bus(vm), BUS_PIO, UART16550_COM1_PORT,
			   UART_NR_REGS, "uart16550", uart_access, d);
	if (err) {
		log_err("serial: cannot claim ports 0x%x-0x%x: %s",
			UART16550_COM1_PORT,
			UART16550_COM1_PORT + UART_NR_REGS - 1, strerror(-err));
		goto err_stop_reader;
	}
	*state = d;
	return 0;

err_stop_reader:
	reader_stop(d);
err_close_output:
	close_output(d);
err_free:
	uart_free(d);
	return err;
}

static int uart_fdt_node(void *state, void *fdt)
{
	int node = fdt_add_subnode(fdt, 0, "serial@3f8");
	int err = node < 0 ? node : 0;

	if (!err)
		err = fdt_setprop_string(fdt, node, "compatible", "ns16550a");
	if (!err)
		err = fdt_setprop_u32(fdt, node, "kvmtrack,ioport",
				      UART16550_COM1_PORT);
	if (!err)
		err = fdt_setprop_u32(fdt, node, "interrupts",
				      UART16550_COM1_IRQ);
	if (!err)
		err = fdt_setprop_u32(fdt, node, "clock-frequency",
				      UART_CLOCK_HZ);
	if (!err)
		return 0;
	log_err("serial: cannot add /serial@3f8 to the device tree: %s",
		fdt_strerror(err));
	return err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

static void uart_stats(void *state, struct jw *w)
{
	struct uart_dev *d = state;
	struct uart16550 *u = &d->model;

	pthread_mutex_lock(&d->lock);
	jw_string(w, "output", d->out_path);
	jw_bool(w, "input", d->reader_started);
	jw_u64(w, "tx_bytes", u->tx_bytes);
	jw_u64(w, "rx_bytes", u->rx_bytes);
	jw_u64(w, "rx_overruns", u->rx_overruns);
	jw_u64(w, "tx_errors", d->tx_errors);
	jw_u64(w, "baud", uart_baud(u));
	jw_u64(w, "ier", u->ier);
	jw_u64(w, "lcr", u->lcr);
	jw_u64(w, "mcr", u->mcr);
	jw_bool(w, "fifo_enabled", u->fcr & UART_FCR_ENABLE);
	jw_u64(w, "rx_fifo_bytes", u->rx_count);
	jw_bool(w, "irq_level", u->irq_level);
	pthread_mutex_unlock(&d->lock);
}

static void uart_dev_exit(void *state)
{
	struct uart_dev *d = state;

	if (!d)
		return;
	reader_stop(d);
	pthread_mutex_lock(&d->lock);
	tx_flush(d);
	pthread_mutex_unlock(&d->lock);
	close_output(d);
	uart_free(d);
}

size_t uart16550_inject(void *state, const uint8_t *bytes, size_t n)
{
	struct uart_dev *d = state;
	unsigned int room;

	pthread_mutex_lock(&d->lock);
	room = uart_rx_room(&d->model);
	if (room > n)
		room = (unsigned int)n;
	room = uart_receive(&d->model, bytes, room);
	pthread_mutex_unlock(&d->lock);
	return room;
}

/* The model, then whether the guest was listening (gates stdin input). */
static int uart_dev_save(void *state, struct wbuf *w)
{
	struct uart_dev *d = state;

	pthread_mutex_lock(&d->lock);
	/* What the guest sent before it stopped belongs to this console. */
	tx_flush(d);
	uart_save(&d->model, w);
	wbuf_put_u8(w, d->guest_listening);
	pthread_mutex_unlock(&d->lock);
	return w->err;
}

static int uart_dev_load(void *state, struct rbuf *r, uint32_t version,
			 char *err, size_t err_len)
{
	struct uart_dev *d = state;
	uint8_t listening;
	int ret;

	if (version != UART_STATE_VERSION) {
		snprintf(err, err_len, "uart: state version %u, can read %u",
			 version, UART_STATE_VERSION);
		return -EINVAL;
	}
	pthread_mutex_lock(&d->lock);
	ret = uart_load(&d->model, r, err, err_len);
	listening = rbuf_get_u8(r);
	if (!ret && (r->err || listening > 1)) {
		snprintf(err, err_len, "uart: %s guest_listening",
			 r->err ? "truncated before" : "impossible");
		ret = r->err ? -EBADMSG : -EINVAL;
	}
	if (!ret)
		d->guest_listening = listening;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

const struct device_ops uart16550_ops = {
	.name = "uart16550",
	.init = uart_dev_init,
	.fdt_node = uart_fdt_node,
	.stats = uart_stats,
	.exit = uart_dev_exit,
	.state_version = UART_STATE_VERSION,
	.save = uart_dev_save,
	.load = uart_dev_load,
};
