/* SPDX-License-Identifier: MIT */
/*
 * The test device (protocol in guest/abi/testdev.h): kvmtrack's side of
 * the conversation with the bundled guest. The registry entry testdev_ops
 * puts it on the MMIO bus, where testdev_mmio_access() takes the guest's
 * messages into the model (testdev_model.h), whose operations let the rest
 * of kvmtrack (and the unit tests) read what the guest reported and queue
 * commands for it.
 */
#ifndef KVMTRACK_TESTDEV_H
#define KVMTRACK_TESTDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/testdev_model.h"
#include "guest/abi/testdev.h"

struct vm;

/* The test device of a VM built with devices/registry.h, or NULL. */
struct testdev *testdev_of(struct vm *vm);

/*
 * The MMIO handler (a bus_access_fn; opaque is the struct testdev). Always
 * returns 0: a misbehaving guest gets -errno in STATUS and a log line, it
 * never stops the VM.
 */
int testdev_mmio_access(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write);

/* Size of the fixed struct for a message type, 0 if the type is unknown. */
size_t testdev_msg_size(uint32_t type);

/*
 * Checks a message header read from gpa before the body is read: alignment,
 * sizeof(hdr) <= len_bytes <= TESTDEV_MSG_MAX_BYTES, a known type and
 * len_bytes >= that type's struct. Pure (RAM is checked by the caller).
 * Returns 0 or -errno as listed in enum testdev_err_kind, and the kind.
 */
int testdev_msg_check(uint64_t gpa, const struct testdev_msg_hdr *hdr,
		      enum testdev_err_kind *kind);

#endif
