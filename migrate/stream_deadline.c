// SPDX-License-Identifier: MIT
/*
 * Deadlines of the migration stream (stream.h): a destination's opening
 * and frames, a source's switch-over. Each is kept by shortening the
 * socket's own timeout (SO_RCVTIMEO, SO_SNDTIMEO) to what the nearest
 * deadline leaves before each read or send, so that the kernel's wait,
 * GnuTLS's and kernel TLS's alike, ends at it.
 */
#include "migrate/stream_deadline.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "lib/clock.h"
#include "migrate/proto.h"
#include "migrate/stream_error.h"

/*
 * Under a deadline, a timeout armed within this much of what the deadline
 * leaves is left as it is: a read or send may end this much after the
 * deadline, or end early and be armed again. Arming before every read, as
 * the time left shrank, cost a setsockopt a page (docs/page-costs.md).
 */
#define ARM_SLACK_MS 100

/* Whether a timeout armed at armed ms (0: none) must be set to ms; with
 * no deadline, only the socket's own timeout will do. */
static bool must_arm(unsigned int armed, long ms, bool deadline)
{
	if (!deadline)
		return (long)armed != ms;
	return !armed || (long)armed > ms + ARM_SLACK_MS ||
	       (long)armed + ARM_SLACK_MS < ms;
}

/* SO_RCVTIMEO or SO_SNDTIMEO in ms (0: none, or not a socket). */
static unsigned int socket_timeout_ms(int fd, int opt)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len))
		return 0;
	return (unsigned int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

static int set_socket_timeout(int fd, int opt, long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) ? -errno : 0;
}

/* The source's --timeout passed while the stream waited. */
static int switch_expired(struct mig_stream *s, const char *part)
{
	return mig_stream_fail(s, -ETIMEDOUT,
			       MIG_NO_SWITCH_OVER " (the stream stalled: %llu bytes sent; %s)",
			       s->switch_s,
			       (unsigned long long)s->bytes_sent, part);
}

long mig_deadline_arm_ms(uint64_t now_ns, uint64_t until_ns,
			 unsigned int io_ms)
{
	uint64_t left_ms;

	if (!until_ns)
		return io_ms;
	left_ms = now_ns < until_ns ? (until_ns - now_ns) / 1000000 : 0;
	if (!left_ms)
		return -ETIMEDOUT;
	return io_ms && io_ms < left_ms ? (long)io_ms : (long)left_ms;
}

void mig_stream_deadlines(struct mig_stream *s, unsigned int ms)
{
	s->io_ms = s->armed_ms = socket_timeout_ms(s->fd, SO_RCVTIMEO);
	s->deadline_ms = ms;
	s->open_until_ns = clock_now_ns() + ms * 1000000ull;
}

void mig_stream_opened(struct mig_stream *s)
{
	s->open_until_ns = 0;
}

/* Where the current frame stands: "4 of frame 0's 20-byte header". */
static void frame_part(const struct mig_stream *s, char *out, size_t len)
{
	uint64_t got = s->bytes_received - s->frame_from_bytes;

	if (!got)
		snprintf(out, len, "frame %u not begun", s->frame_seq);
	else if (got < MIG_HEADER_BYTES)
		snprintf(out, len, "%llu of frame %u's %u-byte header",
			 (unsigned long long)got, s->frame_seq, MIG_HEADER_BYTES);
	else
		snprintf(out, len, "%llu of frame %u (%s)'s %llu bytes",
			 (unsigned long long)got, s->frame_seq,
			 mig_frame_name(s->type),
			 (unsigned long long)MIG_HEADER_BYTES + s->len);
}

/* A deadline passed: the nearer one, with what had come by then. */
static int expired(struct mig_stream *s, uint64_t until)
{
	unsigned int secs = s->deadline_ms / 1000;
	char part[96];

	frame_part(s, part, sizeof(part));
	if (until == s->switch_until_ns)
		return switch_expired(s, part);
	if (s->open_until_ns &&
	    (!s->frame_until_ns || s->open_until_ns <= s->frame_until_ns))
		return mig_stream_fail(s, -ETIMEDOUT,
				       MIG_OPENING_TOO_SLOW " (%llu bytes in: %s)",
				       secs,
				       (unsigned long long)s->bytes_received,
				       part);
	return mig_stream_fail(s, -ETIMEDOUT,
			       "a frame came too slowly: %s in the %u s since its first byte",
			       part, secs);
}

/* The nearer of two deadlines, 0 standing for none. */
static uint64_t nearer(uint64_t a, uint64_t b)
{
	return a && (!b || a < b) ? a : b;
}

int mig_stream_arm(struct mig_stream *s)
{
	uint64_t until = nearer(s->open_until_ns, s->frame_until_ns);
	long ms;
	int ret;

	if (!s->deadline_ms && !s->switch_until_ns)
		return 0;
	until = nearer(until, s->switch_until_ns);
	ms = mig_deadline_arm_ms(clock_now_ns(), until, s->io_ms);
	if (ms < 0)
		return expired(s, until);
	if (!must_arm(s->armed_ms, ms, until != 0)) {
		/* A timeout shorter than the socket's own ends a read
		 * early: it is armed again. One as long is the socket's
		 * per-read timeout, which still holds. */
		s->armed_short = until && (!s->io_ms || s->armed_ms < s->io_ms);
		return 0;
	}
	s->armed_short = until && (!s->io_ms || ms < s->io_ms);
	ret = set_socket_timeout(s->fd, SO_RCVTIMEO, ms);
	if (ret)
		return mig_stream_fail(s, ret, "receive timeout: %s",
				       strerror(-ret));
	s->armed_ms = (unsigned int)ms;
	return 0;
}

void mig_stream_switch_deadline(struct mig_stream *s, uint64_t until_ns,
				unsigned int timeout_s)
{
	if (until_ns && !s->switch_until_ns) {
		if (!s->deadline_ms)
			s->io_ms = s->armed_ms =
			    socket_timeout_ms(s->fd, SO_RCVTIMEO);
		s->snd_io_ms = s->snd_armed_ms =
		    socket_timeout_ms(s->fd, SO_SNDTIMEO);
	}
	s->switch_until_ns = until_ns;
	s->switch_s = timeout_s;
	if (until_ns)
		return;
	/* The socket's own timeouts again, for what follows the switch. */
	if (s->snd_armed_ms != s->snd_io_ms &&
	    !set_socket_timeout(s->fd, SO_SNDTIMEO, s->snd_io_ms))
		s->snd_armed_ms = s->snd_io_ms;
	if (!s->deadline_ms && s->armed_ms != s->io_ms &&
	    !set_socket_timeout(s->fd, SO_RCVTIMEO, s->io_ms))
		s->armed_ms = s->io_ms;
	s->armed_short = false;
}

int mig_stream_arm_send(struct mig_stream *s)
{
	long ms;
	int ret;

	if (!s->switch_until_ns)
		return 0;
	ms = mig_deadline_arm_ms(clock_now_ns(), s->switch_until_ns,
				 s->snd_io_ms);
	if (ms < 0)
		return switch_expired(s, "sending");
	if (!must_arm(s->snd_armed_ms, ms, true))
		return 0;
	ret = set_socket_timeout(s->fd, SO_SNDTIMEO, ms);
	if (ret)
		return mig_stream_fail(s, ret, "send timeout: %s",
				       strerror(-ret));
	s->snd_armed_ms = (unsigned int)ms;
	return 0;
}
