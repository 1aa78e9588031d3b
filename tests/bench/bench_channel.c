// SPDX-License-Identifier: MIT
/*
 * bench-channel: what TLS costs the migration channel itself, on this
 * machine's CPU (no guest, so no KVM and no emulator in the way): two
 * threads over TCP on 127.0.0.1, the migration's stream code on both ends
 * (stream.c's RAM frames, each MIG_RAM_FRAME_PAGES pages of random bytes
 * gathered from a 64 MiB buffer as from guest memory, and read in place
 * into another, the CRC over the header as for RAM, whose pages the page
 * hashes cover: not measured here, the same with TLS or without), plain,
 * then TLS 1.3 with a pre-shared key and with x509, records by the kernel
 * (where it has TLS) and by GnuTLS in the process.
 *
 * Usage: bench-channel [--mib N] [--runs R] [--creds DIR] [--json FILE]
 * Prints a Markdown table: MB/s of payload, median of R runs, and each
 * mode over plain; the goal (issue 15): TLS at least 0.6x plain.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "migrate/proto.h"
#include "migrate/stream.h"
#include "migrate/tls.h"

#define PAGE 4096
#define FRAME_PAGES MIG_RAM_FRAME_PAGES
#define POOL_BYTES (64u << 20)
#define MAX_RUNS 15

struct mode {
	const char *name;
	const char *creds_src, *creds_dst, *psk; /* under --creds */
	bool userspace;
};

static const struct mode modes[] = {
	{ "plain", NULL, NULL, NULL, false },
	{ "psk, kernel records", NULL, NULL, "good.psk", false },
	{ "psk, GnuTLS records", NULL, NULL, "good.psk", true },
	{ "x509, kernel records", "src", "dst", NULL, false },
	{ "x509, GnuTLS records", "src", "dst", NULL, true },
};

struct end {
	const struct mode *m;
	const char *dir;
	bool server;
	int fd;
	uint64_t bytes;
	char how[256];
	int ret;
};

static uint8_t *pool, *landing;

/* 64 pages from all over a pool: a stride that visits every page before
 * repeating. */
static void gather(uint8_t *base, uint64_t *page, struct iovec *iov)
{
	for (int i = 0; i < FRAME_PAGES; i++) {
		*page = (*page + 4099) % (POOL_BYTES / PAGE);
		iov[i] = (struct iovec){ base + *page * PAGE, PAGE };
	}
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int secure(struct end *e, struct mig_stream *s, struct mig_tls **t)
{
	char creds[600], psk[600];
	struct mig_tls_opts o;
	const char *side = e->server ? e->m->creds_dst : e->m->creds_src;
	int ret;

	*t = NULL;
	if (!e->m->psk && !side)
		return 0;
	snprintf(creds, sizeof(creds), "%s/%s", e->dir, side ? side : "");
	snprintf(psk, sizeof(psk), "%s/%s", e->dir, e->m->psk ? e->m->psk : "");
	ret = mig_tls_opts_set(&o, side ? creds : NULL, e->m->psk ? psk : NULL,
			       NULL, 0, e->how, sizeof(e->how));
	ret = ret ?: mig_tls_load(&o, e->server, t, e->how, sizeof(e->how));
	ret = ret ?: mig_tls_handshake(*t, e->fd,
				       e->server ? NULL : "127.0.0.1",
				       &s->tls_io, e->how, sizeof(e->how));
	s->tls = !ret;
	return ret;
}

static void send_all(struct end *e, struct mig_stream *s)
{
	struct iovec iov[FRAME_PAGES];
	uint64_t page = 0;

	for (uint64_t sent = 0; sent < e->bytes && !s->err;
	     sent += FRAME_PAGES * PAGE) {
		gather(pool, &page, iov);
		mig_send_crc_over(s, MIG_RAM, iov, FRAME_PAGES, 0);
	}
	mig_send_buf(s, MIG_DONE, NULL, 0);
	mig_expect(s, MIG_DONE);
}

static void receive_all(struct mig_stream *s)
{
	struct iovec iov[FRAME_PAGES];
	uint64_t page = 0;

	while (mig_recv(s) == 0 && s->type == MIG_RAM &&
	       s->len == FRAME_PAGES * PAGE) {
		uint32_t crc = mig_recv_crc_begin(s);

		gather(landing, &page, iov);
		if (mig_recv_payload_iov(s, iov, FRAME_PAGES, NULL) ||
		    mig_recv_finish(s, crc))
			return;
	}
	if (!s->err && s->type == MIG_DONE)
		mig_send_buf(s, MIG_DONE, NULL, 0);
}

static void *run_end(void *arg)
{
	struct end *e = arg;
	struct mig_stream s;
	struct mig_tls *t;

	mig_stream_init(&s, e->fd);
	e->ret = secure(e, &s, &t);
	if (!e->ret && e->server)
		receive_all(&s);
	else if (!e->ret)
		send_all(e, &s);
	if (!e->ret && s.err) {
		e->ret = s.err;
		snprintf(e->how, sizeof(e->how), "%s", mig_stream_error(&s));
	}
	mig_stream_free(&s);
	mig_tls_free(t);
	close(e->fd);
	return NULL;
}

static int tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), ok;

	ok = lfd >= 0 && !bind(lfd, (struct sockaddr *)&a, sizeof(a)) &&
	     !listen(lfd, 1) && !getsockname(lfd, (struct sockaddr *)&a, &len);
	fds[0] = ok ? socket(AF_INET, SOCK_STREAM, 0) : -1;
	ok = ok && fds[0] >= 0 &&
	     !connect(fds[0], (struct sockaddr *)&a, sizeof(a));
	fds[1] = ok ? accept(lfd, NULL, NULL) : -1;
	if (lfd >= 0)
		close(lfd);
	return fds[1] >= 0 ? 0 : -errno;
}

/* One transfer; MB/s of payload, or a negative errno (how says why). */
static double one_run(const struct mode *m, const char *dir, uint64_t bytes,
		      char *how, size_t how_len)
{
	struct end src = { m, dir, false, -1, bytes, "", 0 };
	struct end dst = { m, dir, true, -1, bytes, "", 0 };
	pthread_t th;
	int fds[2];
	double t0;

	if (tcp_pair(fds))
		return -errno;
	src.fd = fds[0];
	dst.fd = fds[1];
	/* Before the threads: setenv() is not safe beside a getenv(). */
	if (m->userspace)
		setenv("KVMTRACK_X_TLS_USERSPACE", "1", 1);
	t0 = now_s();
	pthread_create(&th, NULL, run_end, &dst);
	run_end(&src);
	pthread_join(th, NULL);
	unsetenv("KVMTRACK_X_TLS_USERSPACE");
	snprintf(how, how_len, "%s", src.how[0] ? src.how : "no TLS");
	if (src.ret || dst.ret) {
		snprintf(how, how_len, "failed: %s / %s", src.how, dst.how);
		return -EIO;
	}
	return (double)bytes / 1e6 / (now_s() - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mib", required_argument, NULL, 'm' },
		{ "runs", required_argument, NULL, 'r' },
		{ "creds", required_argument, NULL, 'c' },
		{ "json", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "tests/tls/creds", *json = NULL;
	uint64_t mib = 1024;
	int runs = 5, c;
	double plain = 0;
	FILE *jf = NULL;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'm')
			mib = strtoull(optarg, NULL, 0);
		else if (c == 'r')
			runs = atoi(optarg);
		else if (c == 'c')
			dir = optarg;
		else if (c == 'j')
			json = optarg;
		else
			return 2;
	}
	if (runs < 1 || runs > MAX_RUNS || mib < 1) {
		fprintf(stderr, "bench-channel: --runs 1..%d, --mib > 0\n", MAX_RUNS);
		return 2;
	}
	pool = malloc(POOL_BYTES);
	landing = calloc(1, POOL_BYTES);
	if (!pool || !landing)
		return 1;
	srand(1);
	for (size_t i = 0; i < POOL_BYTES; i++)
		pool[i] = (uint8_t)rand();
	if (json && !(jf = fopen(json, "w"))) {
		perror(json);
		return 1;
	}
	if (jf)
		fprintf(jf, "{\n  \"benchmark\": \"channel\",\n  \"mib\": %llu,\n  \"runs\": %d,\n  \"modes\": [",
			(unsigned long long)mib, runs);
	printf("| channel | MB/s (median of %d) | over plain | goal | how |\n|---|---:|---:|---|---|\n",
	       runs);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		double v[MAX_RUNS], med;
		char how[300] = "";
		int n = 0;

		for (int r = 0; r < runs; r++) {
			double x = one_run(&modes[i], dir, mib << 20, how, sizeof(how));

			if (x > 0)
				v[n++] = x;
		}
		qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
		med = n ? v[n / 2] : 0;
		if (i == 0)
			plain = med;
		printf("| %s | %.0f | %.2fx | %s | %s |\n", modes[i].name, med,
		       plain > 0 ? med / plain : 0,
		       i == 0 ? "" : med >= 0.6 * plain ? "≥ 0.6x: met" : "≥ 0.6x: NOT met",
		       how);
		if (jf)
			fprintf(jf, "%s\n    {\"mode\": \"%s\", \"mb_per_s\": %.1f, \"over_plain\": %.3f, \"completed\": %d, \"how\": \"%s\"}",
				i ? "," : "", modes[i].name, med,
				plain > 0 ? med / plain : 0, n, how);
	}
	if (jf) {
		fprintf(jf, "\n  ]\n}\n");
		fclose(jf);
	}
	free(pool);
	free(landing);
	return 0;
}
