/* SPDX-License-Identifier: MIT */
/*
 * The migration stream's state (stream.h), apart so that its deadlines
 * (stream_deadline.c) and its errors (stream_error.c) sit below the
 * frames (stream.c) that use them.
 */
#ifndef KVMTRACK_STREAM_TYPES_H
#define KVMTRACK_STREAM_TYPES_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct mig_tls_io;

struct mig_stream {
	int fd;
	/* TLS (tls.h): records by GnuTLS in this process, else NULL (none,
	 * or the kernel's, on fd); tls: whether either carries the stream. */
	struct mig_tls_io *tls_io;
	bool tls;
	uint32_t send_seq;
	uint32_t recv_seq;
	uint64_t bytes_sent;
	uint64_t bytes_received;
	int err;
	char err_msg[256];
	/* Received frame: header fields and payload (owned buffer). */
	uint16_t type;
	uint32_t len;
	uint8_t *payload;
	size_t payload_cap;
	/* The header of a frame whose payload is read in place (RAM). */
	uint8_t pending_hdr[20];
	/*
	 * Deadlines (mig_stream_deadlines()), CLOCK_MONOTONIC ns, 0 where
	 * none runs: the opening's, and the frame's from its first byte,
	 * which came after frame_from_bytes of the stream; its number (a
	 * RAM frame's is counted before its pages come).
	 */
	unsigned int deadline_ms;
	uint32_t frame_seq;
	uint64_t open_until_ns;
	uint64_t frame_until_ns;
	uint64_t frame_from_bytes;
	/* SO_RCVTIMEO: as the transport set it (the wait for a frame's
	 * first byte), and as it is now; whether a deadline shortened it. */
	unsigned int io_ms;
	unsigned int armed_ms;
	bool armed_short;
	/* The source's switch-over deadline (mig_stream_switch_deadline()),
	 * its --timeout in s; SO_SNDTIMEO as set and as armed for it. */
	uint64_t switch_until_ns;
	unsigned int switch_s;
	unsigned int snd_io_ms, snd_armed_ms;
};

#endif
