// SPDX-License-Identifier: MIT
/*
 * A minimal MC146818 CMOS RTC at ports 0x70 (index) and 0x71 (data): the
 * host's current UTC time in BCD (or binary, if the guest clears the DM
 * bit of status register B), 24-hour mode, status registers A-D that say
 * "oscillator running, no update in progress, time valid", and the rest of
 * the 128 bytes of CMOS as plain storage. Bit 7 of the index (NMI disable
 * on a PC) is ignored. Guest writes to the time registers are dropped: the
 * clock always follows the host. No interrupts (IRQ 8) are generated.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/devices.h"
#include "lib/log.h"
#include "vmm/mem/bus.h"
#include "vmm/vm.h"

#define RTC_PORT 0x70
#define CMOS_BYTES 128

enum rtc_reg {
	RTC_SECONDS = 0x00,
	RTC_MINUTES = 0x02,
	RTC_HOURS = 0x04,
	RTC_WEEKDAY = 0x06,
	RTC_DAY = 0x07,
	RTC_MONTH = 0x08,
	RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a,
	RTC_REG_B = 0x0b,
	RTC_REG_C = 0x0c,
	RTC_REG_D = 0x0d,
	RTC_CENTURY = 0x32,
};

#define REG_A_DEFAULT 0x26 /* 32.768 kHz time base, 1024 Hz rate, UIP 0 */
#define REG_B_24H 0x02
#define REG_B_BINARY 0x04 /* DM: binary instead of BCD */
#define REG_D_VRT 0x80 /* valid RAM and time */

struct cmos_rtc {
	pthread_mutex_t lock; /* guards everything below */
	uint8_t index;
	uint8_t cmos[CMOS_BYTES];
};

static uint8_t encode(const struct cmos_rtc *d, int value)
{
	if (d->cmos[RTC_REG_B] & REG_B_BINARY)
		return (uint8_t)value;
	return (uint8_t)(((value / 10) << 4) | (value % 10));
}

/* The time registers' values now, or -1 if reg is not one of them. */
static int time_reg(const struct cmos_rtc *d, uint8_t reg)
{
	struct tm tm;
	time_t now = time(NULL);

	if (!gmtime_r(&now, &tm))
		return -1;
	switch (reg) {
	case RTC_SECONDS:
		return encode(d, tm.tm_sec > 59 ? 59 : tm.tm_sec);
	case RTC_MINUTES:
		return encode(d, tm.tm_min);
	case RTC_HOURS:
		return encode(d, tm.tm_hour);
	case RTC_WEEKDAY:
		return encode(d, tm.tm_wday + 1);
	case RTC_DAY:
		return encode(d, tm.tm_mday);
	case RTC_MONTH:
		return encode(d, tm.tm_mon + 1);
	case RTC_YEAR:
		return encode(d, tm.tm_year % 100);
	case RTC_CENTURY:
		return encode(d, (tm.tm_year + 1900) / 100);
	}
	return -1;
}

static uint8_t data_read(struct cmos_rtc *d)
{
	int v = time_reg(d, d->index);

	if (v >= 0)
		return (uint8_t)v;
	if (d->index == RTC_REG_C) {
		uint8_t c = d->cmos[RTC_REG_C];

		d->cmos[RTC_REG_C] = 0; /* reading C acknowledges */
		return c;
	}
	return d->cmos[d->index];
}

static void data_write(struct cmos_rtc *d, uint8_t v)
{
	switch (d->index) {
	case RTC_REG_A:
		/* UIP (bit 7) is read-only. */
		d->cmos[RTC_REG_A] = (uint8_t)(v & 0x7f);
		break;
	case RTC_REG_B:
		/* 12-hour mode is not modelled: stay in 24-hour mode. */
		d->cmos[RTC_REG_B] = (uint8_t)(v | REG_B_24H);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		if (time_reg(d, d->index) < 0)
			d->cmos[d->index] = v;
	}
}

static int rtc_access(void *opaque, uint64_t offset, uint8_t *data,
		      uint32_t len, bool is_write)
{
	struct cmos_rtc *d = opaque;
	uint64_t v = is_write ? bus_data_get(data, len) : 0xff;

	pthread_mutex_lock(&d->lock);
	if (offset == 0 && is_write)
		d->index = (uint8_t)(v & 0x7f); /* bit 7: NMI mask, ignored */
	else if (offset == 0)
		v = d->index;
	else if (is_write)
		data_write(d, (uint8_t)v);
	else
		v = data_read(d);
	pthread_mutex_unlock(&d->lock);
	if (!is_write)
		bus_data_put(data, len, v);
	return 0;
}

static int rtc_init(struct vm *vm, void **state)
{
	struct cmos_rtc *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	pthread_mutex_init(&d->lock, NULL);
	d->cmos[RTC_REG_A] = REG_A_DEFAULT;
	d->cmos[RTC_REG_B] = REG_B_24H;
	d->cmos[RTC_REG_D] = REG_D_VRT;
	err = bus_register(vm_bus(vm), BUS_PIO, RTC_PORT, 2, "cmos-rtc",
			   rtc_access, d);
	if (err) {
		log_err("cmos-rtc: cannot claim ports 0x70-0x71: %s",
			strerror(-err));
		pthread_mutex_destroy(&d->lock);
		free(d);
		return err;
	}
	*state = d;
	return 0;
}

static void rtc_exit(void *state)
{
	struct cmos_rtc *d = state;

	pthread_mutex_destroy(&d->lock);
	free(d);
}

const struct device_ops cmos_rtc_ops = {
	.name = "cmos-rtc",
	.init = rtc_init,
	.exit = rtc_exit,
};
