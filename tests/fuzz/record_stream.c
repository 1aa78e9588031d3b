// SPDX-License-Identifier: MIT
/*
 * Records a real migration stream for the fuzz targets' seed corpora
 * (tests/fuzz/record.sh): a TCP relay between `kvmtrack migrate` and a
 * `kvmtrack run --incoming` that writes what the source sent to a file.
 *
 *   record_stream PORT TARGET_PORT FILE    relay one connection, record it
 *   record_stream --state FILE OUT         the STATE frame's payload of a
 *                                          recorded stream, for vm_state
 *   record_stream --pack-layer DIR OUT     a checkpoint layer packed as
 *                                          fuzz_checkpoint.c reads it
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/wire.h"
#include "migrate/proto.h"

static int tcp_socket(int port, bool listening)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (listening ? bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
				listen(fd, 1)
		      : connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Copies what is readable on from to to (and to out); false at the end. */
static bool pass_on(int from, int to, FILE *out)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return false;
	if (out && fwrite(buf, 1, (size_t)n, out) != (size_t)n)
		return false;
	for (ssize_t done = 0, w; done < n; done += w) {
		w = write(to, buf + done, (size_t)(n - done));
		if (w <= 0)
			return false;
	}
	return true;
}

static int relay(int port, int target_port, const char *path)
{
	int lfd = tcp_socket(port, true), cfd, tfd;
	FILE *out = fopen(path, "wb");

	if (lfd < 0 || !out) {
		perror("record_stream: listen or open");
		return 1;
	}
	cfd = accept(lfd, NULL, NULL);
	tfd = tcp_socket(target_port, false);
	if (cfd < 0 || tfd < 0) {
		perror("record_stream: accept or connect");
		return 1;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = cfd, .events = POLLIN },
				       { .fd = tfd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0)
			break;
		if (p[0].revents && !pass_on(cfd, tfd, out))
			break;
		if (p[1].revents && !pass_on(tfd, cfd, NULL))
			break;
	}
	fclose(out);
	return 0;
}

/* Writes the payload of the stream's STATE frame to out_path. */
static int extract_state(const char *path, const char *out_path)
{
	static uint8_t buf[64 << 20];
	FILE *in = fopen(path, "rb"), *out;
	size_t len = in ? fread(buf, 1, sizeof(buf), in) : 0, at = 0;

	while (len - at >= MIG_HEADER_BYTES) {
		uint32_t n = get_le32(buf + at + 8);

		if (get_le16(buf + at + 6) == MIG_STATE &&
		    n <= len - at - MIG_HEADER_BYTES) {
			out = fopen(out_path, "wb");
			if (!out || fwrite(buf + at + MIG_HEADER_BYTES, 1, n,
					   out) != n)
				return 1;
			return fclose(out) ? 1 : 0;
		}
		at += MIG_HEADER_BYTES + (size_t)n;
	}
	fprintf(stderr, "record_stream: no STATE frame in %s\n", path);
	return 1;
}

/* Appends a u32 length and the file's bytes; false if unreadable. */
static bool pack_file(FILE *out, const char *dir, const char *name)
{
	static uint8_t buf[1 << 20];
	char path[4096];
	uint8_t len[4];
	FILE *in;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	in = fopen(path, "rb");
	n = in ? fread(buf, 1, sizeof(buf), in) : 0;
	if (!in || !feof(in))
		return false;
	fclose(in);
	put_le32(len, (uint32_t)n);
	return fwrite(len, 1, 4, out) == 4 && fwrite(buf, 1, n, out) == n;
}

/* The manifest, the pages file, then each memory page that is not zero
 * with its index. */
static int pack_layer(const char *dir, const char *out_path)
{
	static const uint8_t zero[4096];
	uint8_t page[4096], index[4];
	char path[4096];
	FILE *out = fopen(out_path, "wb"), *mem;

	snprintf(path, sizeof(path), "%s/memory", dir);
	mem = fopen(path, "rb");
	if (!out || !mem || !pack_file(out, dir, "manifest") ||
	    !pack_file(out, dir, "pages"))
		return 1;
	for (uint32_t i = 0; fread(page, 1, sizeof(page), mem) == sizeof(page);
	     i++) {
		if (!memcmp(page, zero, sizeof(page)))
			continue;
		put_le32(index, i);
		if (fwrite(index, 1, 4, out) != 4 ||
		    fwrite(page, 1, sizeof(page), out) != sizeof(page))
			return 1;
	}
	fclose(mem);
	return fclose(out) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--state"))
		return extract_state(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "--pack-layer"))
		return pack_layer(argv[2], argv[3]);
	if (argc == 4)
		return relay(atoi(argv[1]), atoi(argv[2]), argv[3]);
	fprintf(stderr, "usage: record_stream PORT TARGET_PORT FILE | --state FILE OUT | --pack-layer DIR OUT\n");
	return 2;
}
