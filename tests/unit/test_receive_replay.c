// SPDX-License-Identifier: MIT
/*
 * The migration receiver (migrate/receive.c) on real streams, without
 * /dev/kvm: the two that tests/fuzz/record.sh recorded from kvmtrack
 * migrations (the fuzz seeds) arrive whole and verified in plain memory
 * (tests/fuzz/plain_dest.h), and the same stream with any one byte
 * changed is refused (but in a live page, see below). When the protocol
 * changes, record them again.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "lib/le.h"
#include "migrate/proto.h"
#include "tests/fuzz/plain_dest.h"

#define SEEDS "tests/fuzz/corpus/migrate_recv/"

static uint8_t *load(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	uint8_t *buf;

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	cr_assert_not_null(buf);
	cr_assert_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void expect_verified(const char *name, unsigned int min_passes)
{
	struct plain_dest *d = malloc(sizeof(*d));
	size_t len;
	uint8_t *stream = load(name, &len);

	cr_assert_eq(plain_receive(d, stream, len), 0, "%s: %s", name,
		     mig_stream_error(&d->rx.s));
	cr_expect(d->rx.verified);
	cr_expect_geq(d->rx.passes, min_passes);
	cr_expect_gt(d->rx.ram.nonzero_pages, 0);
	plain_dest_free(d);
	free(d);
	free(stream);
}

Test(receive_replay, recorded_streams_arrive_verified)
{
	expect_verified(SEEDS "alphabet", 1);
	expect_verified(SEEDS "guest", 2);
}

/*
 * Whether byte `at` is page data of a RAM_LIVE frame. Those pages were
 * read while the guest ran, and one that does not match its hash is torn:
 * refused only if it does not come again (migrate/torn.h). A changed byte
 * there passes when the page is sent again, which the recorded guest does
 * for the pages it kept writing: the later copy replaces it, and the
 * digest covers what stays.
 */
static bool in_live_page(const uint8_t *stream, size_t len, size_t at)
{
	size_t frame = 0;

	while (len - frame >= MIG_HEADER_BYTES) {
		const uint8_t *h = stream + frame;
		size_t end = frame + MIG_HEADER_BYTES + get_le32(h + 8);
		size_t pages = frame + MIG_HEADER_BYTES + 8 +
			       16 * (size_t)get_le32(h + MIG_HEADER_BYTES + 4);

		if (at < end)
			return get_le16(h + 6) == MIG_RAM_LIVE && at >= pages;
		frame = end;
	}
	return false;
}

Test(receive_replay, any_byte_changed_is_refused)
{
	struct plain_dest *d = malloc(sizeof(*d));
	size_t len;
	uint8_t *stream = load(SEEDS "guest", &len);
	unsigned int tried = 0;

	/* 64 places spread over the stream: headers, page lists, pages,
	 * sparse encodings, the state and the digest. */
	for (size_t i = 0; i < 64; i++) {
		size_t at = i * (len - 1) / 63;

		if (in_live_page(stream, len, at))
			continue;
		stream[at] ^= 0x20;
		tried++;
		cr_expect_neq(plain_receive(d, stream, len), 0,
			      "byte %zu of %zu changed, yet received", at, len);
		plain_dest_free(d);
		stream[at] ^= 0x20;
	}
	cr_expect_geq(tried, 32);
	free(d);
	free(stream);
}
