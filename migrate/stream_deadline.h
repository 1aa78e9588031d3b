/* SPDX-License-Identifier: MIT */
/*
 * The migration stream's deadlines (stream_deadline.c): a destination's
 * opening and frames, a source's switch-over.
 */
#ifndef KVMTRACK_STREAM_DEADLINE_H
#define KVMTRACK_STREAM_DEADLINE_H

#include <stdint.h>

#include "migrate/stream_types.h"

/*
 * Deadlines for a receiver that cannot trust its peer (the destination):
 * the opening, from now until mig_stream_opened(), and then each frame,
 * from its first byte to its last, must come whole within ms however its
 * bytes trickle in, where the socket's receive timeout alone bounds each
 * read but not their sum. One mechanism for both: before each read the
 * socket's SO_RCVTIMEO (as the transport set it, read here) is shortened
 * to what the nearer deadline leaves, and a read that ends at it fails the
 * stream with what had come: "the peer took more than 10 s to open the
 * migration (4 bytes in: ...)", "a frame came too slowly: 122 of frame 2
 * (RAM)'s 4140 bytes in the 10 s since its first byte". fd must be a socket.
 */
void mig_stream_deadlines(struct mig_stream *s, unsigned int ms);
/* The opening is over (CONFIG accepted): frames' deadlines only. */
void mig_stream_opened(struct mig_stream *s);
/*
 * Shortens the socket's SO_RCVTIMEO to what the deadlines leave, for a
 * reader of the socket other than this stream (the TLS handshake, whose
 * whole wait SO_RCVTIMEO bounds); the stream's own reads do it each time.
 * -ETIMEDOUT with the stream's error set where nothing is left.
 */
int mig_stream_arm(struct mig_stream *s);
/* The words the stream fails with when the opening's deadline passes,
 * with the deadline in seconds. */
#define MIG_OPENING_TOO_SLOW "the peer took more than %u s to open the migration"
/*
 * The source's --timeout (precopy.c): until the switch-over, each read
 * and each send of the stream ends by until_ns (CLOCK_MONOTONIC), as the
 * destination's deadlines do, so that a destination or a link that
 * stalls or trickles cannot hold the pre-copy past it: the stream fails
 * with MIG_NO_SWITCH_OVER. Between passes precopy.c checks the same
 * deadline. until_ns 0 ends it, and the socket's timeouts are as they
 * were for the stop-and-copy. fd must be a socket.
 */
#define MIG_NO_SWITCH_OVER "no switch-over within the %u s timeout"
void mig_stream_switch_deadline(struct mig_stream *s, uint64_t until_ns,
				unsigned int timeout_s);
/* Before each send: SO_SNDTIMEO shortened to what that deadline leaves;
 * -ETIMEDOUT with the stream's error set where nothing is left. */
int mig_stream_arm_send(struct mig_stream *s);
/*
 * The SO_RCVTIMEO to set at now_ns, in ms, for a deadline at until_ns (0:
 * none) under the socket's own io_ms (0: none): the smaller, rounded
 * down; -ETIMEDOUT once less than 1 ms is left, since 0 would wait for
 * ever. A read that returns early is simply armed again.
 */
long mig_deadline_arm_ms(uint64_t now_ns, uint64_t until_ns,
			 unsigned int io_ms);

#endif
