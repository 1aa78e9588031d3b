/* SPDX-License-Identifier: MIT */
/* Time from the TSC, at machine.tsc_khz. */
#ifndef KVMTRACK_GUEST_LIB_TSC_H
#define KVMTRACK_GUEST_LIB_TSC_H

#include <stdint.h>

/* Measures the TSC against PIT channel 2 (~15 ms); returns kHz. */
uint64_t tsc_calibrate_pit(void);
uint64_t ms_to_tsc(uint64_t ms);
uint64_t tsc_to_ms(uint64_t ticks);

#endif
