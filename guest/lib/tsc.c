// SPDX-License-Identifier: MIT
/*
 * Timekeeping is rdtsc, native at CPL3. Without a device tree to give the
 * frequency, it is measured against PIT channel 2 (gated through port
 * 0x61, so no interrupt is involved), from CPL3 through the I/O bitmap.
 */
#include "guest/lib/tsc.h"

#include <stdbool.h>

#include "guest/lib/machine.h"
#include "guest/lib/x86.h"

#define PIT_HZ 1193182ull
#define PIT_CH2 0x42
#define PIT_MODE 0x43
#define PIT_CH2_MODE0 0xb0 /* channel 2, lobyte/hibyte, mode 0, binary */
#define PORT_SPEAKER 0x61
#define SPK_GATE2 0x01
#define SPK_DATA 0x02
#define SPK_OUT2 0x20
#define CALIBRATE_MS 20

uint64_t ms_to_tsc(uint64_t ms)
{
	return ms * machine.tsc_khz;
}

uint64_t tsc_to_ms(uint64_t ticks)
{
	return machine.tsc_khz ? ticks / machine.tsc_khz : 0;
}

uint64_t tsc_calibrate_pit(void)
{
	uint16_t count = PIT_HZ * CALIBRATE_MS / 1000;
	uint8_t spk = inb(PORT_SPEAKER);
	uint64_t t0a, t0b, prev_mid = 0, ta, tb, start, end;
	unsigned int polls = 0;
	bool out2_was_low = false;

	/* Gate on, speaker off; mode 0 drives OUT2 low until the count
	 * reaches zero, which port 0x61 bit 5 shows. */
	outb(PORT_SPEAKER, (spk & ~SPK_DATA) | SPK_GATE2);
	outb(PIT_MODE, PIT_CH2_MODE0);
	outb(PIT_CH2, count & 0xff);
	t0a = rdtsc();
	outb(PIT_CH2, count >> 8); /* counting starts with the high byte */
	t0b = rdtsc();

	/*
	 * Each poll is an exit of tens of microseconds; the edge lies
	 * between the previous poll and the one that sees it, so take the
	 * middle of the two to halve the error.
	 */
	for (;;) {
		ta = rdtsc();
		if (inb(PORT_SPEAKER) & SPK_OUT2)
			break;
		out2_was_low = true;
		tb = rdtsc();
		prev_mid = ta + (tb - ta) / 2;
		if (++polls > 1000000)
			break;
	}
	tb = rdtsc();
	outb(PORT_SPEAKER, spk);

	/* No PIT (OUT2 never low, or never high): no measurement. */
	if (!out2_was_low || polls > 1000000)
		return 0;
	start = t0a + (t0b - t0a) / 2;
	end = ta + (tb - ta) / 2;
	if (prev_mid > start)
		end = prev_mid + (end - prev_mid) / 2;
	return (end - start) * PIT_HZ / ((uint64_t)count * 1000);
}
