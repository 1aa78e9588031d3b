/* SPDX-License-Identifier: MIT */
/*
 * HELLO and a CONFIG frame as a source sends them, announcing any RAM size
 * and vCPU count: for the tests of a destination's limits, the unit tests
 * (tests/unit/test_receive_limits.c, over a socketpair) and the
 * end-to-end ones (test_incoming_limits.c, over TCP to kvmtrack).
 */
#ifndef KVMTRACK_TESTS_CONFIG_FRAME_H
#define KVMTRACK_TESTS_CONFIG_FRAME_H

#include <criterion/criterion.h>
#include <libfdt.h>

#include "lib/wire.h"
#include "migrate/proto.h"
#include "migrate/receive.h"
#include "migrate/stream.h"

static inline void send_hello_and_config(struct mig_stream *s,
					 uint64_t mem_bytes, uint32_t cpus)
{
	uint64_t fdt[64];
	struct wbuf w;

	cr_assert_eq(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
	cr_assert_eq(fdt_setprop_string(fdt, 0, "compatible", "kvmtrack,pc"),
		     0);
	wbuf_init(&w);
	mig_config_put(&w, mem_bytes, cpus, "", fdt);
	wbuf_put_u32(&w, 0); /* no read-only windows */
	cr_assert_eq(w.err, 0);
	cr_assert_eq(mig_send_buf(s, MIG_HELLO, "\0\0\0\0\0\0\0", 8), 0);
	cr_assert_eq(mig_send_buf(s, MIG_CONFIG, w.data, w.len), 0);
	wbuf_free(&w);
}

#endif
