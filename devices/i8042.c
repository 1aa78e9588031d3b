// SPDX-License-Identifier: MIT
/*
 * The i8042 keyboard controller at ports 0x60 (data) and 0x64 (status /
 * command), with no keyboard or mouse behind it. It exists for two reasons:
 * Linux probes it at boot and must get sane answers (self-test passes, the
 * command byte reads back, nothing is attached), and it is the PC's classic
 * reset line: command 0xfe (pulse output line 0, the CPU reset) or a write
 * of the output port with bit 0 clear ends kvmtrack with status 0, as a
 * guest reboot should. Responses are polled; no IRQ 1/12 is raised since
 * no device ever produces data.
 */
#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "lib/log.h"
#include "vmm/mem/bus.h"
#include "vmm/vm.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

#define STATUS_OBF 0x01 /* output buffer full: data waits at 0x60 */
#define STATUS_SYS 0x04 /* system flag: self-test passed */
#define STATUS_CMD 0x08 /* last write went to the command port */
#define STATUS_AUX_OBF 0x20 /* the byte in the buffer is from the aux port */

#define CTR_KBD_DISABLED 0x10
#define CTR_AUX_DISABLED 0x20

enum i8042_cmd {
	CMD_READ_CTR = 0x20,
	CMD_WRITE_CTR = 0x60,
	CMD_AUX_DISABLE = 0xa7,
	CMD_AUX_ENABLE = 0xa8,
	CMD_AUX_TEST = 0xa9,
	CMD_SELF_TEST = 0xaa,
	CMD_KBD_TEST = 0xab,
	CMD_KBD_DISABLE = 0xad,
	CMD_KBD_ENABLE = 0xae,
	CMD_READ_INPUT = 0xc0,
	CMD_READ_OUTPUT = 0xd0,
	CMD_WRITE_OUTPUT = 0xd1,
	CMD_WRITE_KBD_OBUF = 0xd2,
	CMD_WRITE_AUX_OBUF = 0xd3,
	CMD_WRITE_AUX = 0xd4,
	CMD_PULSE_RESET = 0xfe,
};

struct i8042 {
	struct vm *vm;
	pthread_mutex_t lock; /* guards everything below */
	uint8_t ctr; /* the controller's command byte */
	uint8_t outbuf;
	uint8_t status;
	uint8_t pending; /* command waiting for its data byte, 0 if none */
};

static void reply(struct i8042 *d, uint8_t byte, uint8_t aux)
{
	d->outbuf = byte;
	d->status = (uint8_t)((d->status & ~STATUS_AUX_OBF) | STATUS_OBF |
			      aux);
}

static void guest_reset(struct i8042 *d, const char *how)
{
	char why[128];

	snprintf(why, sizeof(why),
		 "guest requested a reset via the i8042 controller (%s)", how);
	vm_request_stop(d->vm, VM_STOP_GUEST_EXIT, 0, why);
}

static void command(struct i8042 *d, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		reply(d, d->ctr, 0);
		break;
	case CMD_AUX_DISABLE:
		d->ctr |= CTR_AUX_DISABLED;
		break;
	case CMD_AUX_ENABLE:
		d->ctr &= (uint8_t)~CTR_AUX_DISABLED;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		reply(d, 0x00, 0); /* the lines test fine; nothing answers */
		break;
	case CMD_SELF_TEST:
		reply(d, 0x55, 0);
		break;
	case CMD_KBD_DISABLE:
		d->ctr |= CTR_KBD_DISABLED;
		break;
	case CMD_KBD_ENABLE:
		d->ctr &= (uint8_t)~CTR_KBD_DISABLED;
		break;
	case CMD_READ_INPUT:
		reply(d, 0x00, 0);
		break;
	case CMD_READ_OUTPUT:
		reply(d, 0x01, 0); /* reset line high: running */
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPUT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		d->pending = cmd;
		break;
	case CMD_PULSE_RESET:
		guest_reset(d, "command 0xfe");
		break;
	default:
		break; /* other pulses, LEDs, vendor commands: nothing to do */
	}
}

static void data_write(struct i8042 *d, uint8_t byte)
{
	uint8_t cmd = d->pending;

	d->pending = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		d->ctr = byte;
		break;
	case CMD_WRITE_OUTPUT:
		if (!(byte & 0x01))
			guest_reset(d, "output port bit 0 cleared");
		break;
	case CMD_WRITE_KBD_OBUF:
		reply(d, byte, 0);
		break;
	case CMD_WRITE_AUX_OBUF:
		reply(d, byte, STATUS_AUX_OBF);
		break;
	default:
		/* To the keyboard (or mouse, after 0xd4): nothing is attached,
		 * so the byte is lost and the guest's driver times out. */
		break;
	}
}

static int i8042_access(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write, bool cmd_port)
{
	struct i8042 *d = opaque;
	uint64_t v = is_write ? bus_data_get(data, len) : 0;

	pthread_mutex_lock(&d->lock);
	if (cmd_port && is_write) {
		d->status |= STATUS_CMD;
		command(d, (uint8_t)v);
	} else if (cmd_port) {
		v = d->status;
	} else if (is_write) {
		d->status &= (uint8_t)~STATUS_CMD;
		data_write(d, (uint8_t)v);
	} else {
		v = d->outbuf;
		d->status &= (uint8_t)~(STATUS_OBF | STATUS_AUX_OBF);
	}
	pthread_mutex_unlock(&d->lock);
	if (!is_write)
		bus_data_put(data, len, v);
	return 0;
}

static int data_port_access(void *opaque, uint64_t offset, uint8_t *data,
			    uint32_t len, bool is_write)
{
	return i8042_access(opaque, offset, data, len, is_write, false);
}

static int cmd_port_access(void *opaque, uint64_t offset, uint8_t *data,
			   uint32_t len, bool is_write)
{
	return i8042_access(opaque, offset, data, len, is_write, true);
}

static int i8042_init(struct vm *vm, void **state)
{
	struct i8042 *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	d->vm = vm;
	pthread_mutex_init(&d->lock, NULL);
	/* As firmware leaves it: keyboard IRQ on, translation, self-tested. */
	d->ctr = 0x45;
	d->status = STATUS_SYS;
	err = bus_register(vm_bus(vm), BUS_PIO, I8042_DATA_PORT, 1, "i8042",
			   data_port_access, d);
	err = err ?: bus_register(vm_bus(vm), BUS_PIO, I8042_CMD_PORT, 1,
				  "i8042", cmd_port_access, d);
	if (err) {
		log_err("i8042: cannot claim ports 0x60/0x64: %s",
			strerror(-err));
		pthread_mutex_destroy(&d->lock);
		free(d);
		return err;
	}
	*state = d;
	return 0;
}

static void i8042_exit(void *state)
{
	struct i8042 *d = state;

	pthread_mutex_destroy(&d->lock);
	free(d);
}

const struct device_ops i8042_ops = {
	.name = "i8042",
	.init = i8042_init,
	.exit = i8042_exit,
};
