// SPDX-License-Identifier: MIT
/*
 * migrate/tls*.c: the migration channel's TLS between two real TCP ends
 * on loopback, with the credentials tests/tls/mkcreds.sh made. Each case
 * sends a frame of pieces larger than a TLS record both ways, or shows
 * that both ends refuse, and why. (Kernel TLS, where the host has it, is
 * used here as in the migration; the e2e tests take it in the test VM.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "migrate/proto.h"
#include "migrate/stream.h"
#include "migrate/tls.h"
#include "migrate/transport.h"

#define CREDS "tests/tls/creds/"
#define PIECE_BYTES 40000 /* more than a TLS record (16 KiB) */

/* One end: what it was given, and what became of it. */
struct end {
	const char *creds, *psk, *name; /* all NULL: plain TCP */
	int ret;
	char msg[256];
	char how[256]; /* the handshake's line, when it went through */
	int fd;
	bool got_frame; /* the other end's frame arrived, whole */
};

static const struct timeval io_timeout = { .tv_sec = 10 };

static void pattern(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + seed);
}

/* Sends a frame of three pieces, then receives the other end's. */
static void exchange(struct end *e, struct mig_stream *s, bool first)
{
	static uint8_t out[3][PIECE_BYTES], want[3 * PIECE_BYTES];
	struct iovec iov[3];

	for (int i = 0; i < 3; i++) {
		pattern(out[i], PIECE_BYTES, (uint8_t)i);
		memcpy(want + i * PIECE_BYTES, out[i], PIECE_BYTES);
		iov[i] = (struct iovec){ out[i], PIECE_BYTES };
	}
	if (first)
		mig_send(s, MIG_HELLO, iov, 3);
	if (mig_recv(s) == 0)
		e->got_frame = s->len == sizeof(want) &&
			       !memcmp(s->payload, want, sizeof(want));
	if (!first)
		mig_send(s, MIG_HELLO, iov, 3);
	if (s->err && !e->msg[0])
		snprintf(e->msg, sizeof(e->msg), "%s", mig_stream_error(s));
}

/* What incoming.c and sender.c do: the handshake, then frames. */
static void run_end(struct end *e, bool server)
{
	struct mig_tls_opts o;
	struct mig_tls *t = NULL;
	struct mig_stream s;

	mig_stream_init(&s, e->fd);
	if (e->creds || e->psk) {
		e->ret = mig_tls_opts_set(&o, e->creds, e->psk, &e->name,
					  e->name ? 1 : 0, e->msg, sizeof(e->msg));
		e->ret = e->ret ?: mig_tls_load(&o, server, &t, e->msg,
						sizeof(e->msg));
		e->ret = e->ret ?: mig_tls_handshake(t, e->fd,
						     server ? NULL : "127.0.0.1",
						     &s.tls_io, e->msg,
						     sizeof(e->msg));
		s.tls = e->ret == 0;
		if (e->ret == -EPROTO && server) {
			mig_send_error(&s, -EACCES, "TLS only here");
			mig_shutdown(e->fd);
		}
	}
	if (!e->ret) {
		memcpy(e->how, e->msg, sizeof(e->how));
		e->msg[0] = '\0';
		exchange(e, &s, !server);
	}
	/* As incoming.c's discard(): the peer hears our ERROR. */
	if (s.err && server) {
		mig_send_error(&s, s.err, s.err_msg);
		mig_shutdown(e->fd);
	}
	mig_stream_free(&s);
	mig_tls_free(t);
	close(e->fd);
}

static void *server_main(void *arg)
{
	run_end(arg, true);
	return NULL;
}

static void run_pair(struct end *srv, struct end *cli)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	pthread_t th;

	cr_assert(lfd >= 0 && !bind(lfd, (struct sockaddr *)&a, sizeof(a)) &&
		  !listen(lfd, 1) &&
		  !getsockname(lfd, (struct sockaddr *)&a, &len));
	cli->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(!connect(cli->fd, (struct sockaddr *)&a, sizeof(a)));
	srv->fd = accept(lfd, NULL, NULL);
	cr_assert(srv->fd >= 0);
	close(lfd);
	for (int i = 0; i < 2; i++) {
		int fd = i ? srv->fd : cli->fd;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &io_timeout,
			   sizeof(io_timeout));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &io_timeout,
			   sizeof(io_timeout));
	}
	pthread_create(&th, NULL, server_main, srv);
	run_end(cli, false);
	pthread_join(th, NULL);
}

static void expect_through(struct end *srv, struct end *cli)
{
	run_pair(srv, cli);
	cr_expect_eq(srv->ret, 0, "destination: %s", srv->msg);
	cr_expect_eq(cli->ret, 0, "source: %s", cli->msg);
	cr_expect(srv->got_frame, "destination: %s", srv->msg);
	cr_expect(cli->got_frame, "source: %s", cli->msg);
}

static void expect_refused(struct end *srv, const char *srv_says,
			   struct end *cli, const char *cli_says)
{
	run_pair(srv, cli);
	cr_expect_not(srv->got_frame || cli->got_frame);
	cr_expect(strstr(srv->msg, srv_says), "destination said: %s",
		  srv->msg);
	cr_expect(strstr(cli->msg, cli_says), "source said: %s", cli->msg);
}

Test(tls, psk_both_ways)
{
	struct end srv = { .psk = CREDS "good.psk" }, cli = srv;

	expect_through(&srv, &cli);
}

Test(tls, psk_bare_key_is_identity_kvmtrack)
{
	struct end srv = { .psk = CREDS "bare.psk" }, cli = srv;

	expect_through(&srv, &cli);
}

Test(tls, psk_other_key_refused_by_both)
{
	struct end srv = { .psk = CREDS "good.psk" },
		   cli = { .psk = CREDS "wrong.psk" };

	expect_refused(&srv, "same key", &cli, "same key");
}

Test(tls, psk_unknown_identity_named)
{
	struct end srv = { .psk = CREDS "bare.psk" },
		   cli = { .psk = CREDS "good.psk" };

	expect_refused(&srv, "identity 'kvmtrack-src' is in no line", &cli,
		       "the destination refused");
}

Test(tls, x509_both_ways)
{
	struct end srv = { .creds = CREDS "dst" }, cli = { .creds = CREDS "src" };

	expect_through(&srv, &cli);
	cr_expect(strstr(cli.how, "TLS 1.3, ") && strstr(cli.how, ", x509, "),
		  "%s", cli.how);
}

Test(tls, x509_destination_of_another_ca)
{
	struct end srv = { .creds = CREDS "dst-rogue" },
		   cli = { .creds = CREDS "src" };

	expect_refused(&srv, "refused", &cli,
		       "the destination's certificate: The certificate is NOT trusted");
}

Test(tls, x509_source_of_another_ca)
{
	struct end srv = { .creds = CREDS "dst" },
		   cli = { .creds = CREDS "src-rogue" };

	expect_refused(&srv, "the source showed no certificate signed by the CA",
		       &cli, "the destination refused");
}

Test(tls, x509_destination_name_checked)
{
	struct end srv = { .creds = CREDS "dst" },
		   cli = { .creds = CREDS "src", .name = "migrate.example" };

	expect_refused(&srv, "refused", &cli,
		       "does not match the expected. (this end expects 'migrate.example': --tls-hostname)");
}

Test(tls, x509_authz_by_host_name_and_dn)
{
	struct end srv = { .creds = CREDS "dst", .name = "source.test" },
		   cli = { .creds = CREDS "src" };

	expect_through(&srv, &cli);
	srv = (struct end){ .creds = CREDS "dst",
			    .name = "CN=source.test,O=kvmtrack tests" };
	cli = (struct end){ .creds = CREDS "src" };
	expect_through(&srv, &cli);
}

Test(tls, x509_authz_refuses_other_names)
{
	struct end srv = { .creds = CREDS "dst", .name = "source.test" },
		   cli = { .creds = CREDS "src-other" };

	expect_refused(&srv,
		       "certificate (CN=other.test,O=kvmtrack tests) carries none of the names --tls-authz allows",
		       &cli, "the destination refused");
}

Test(tls, plain_source_hears_tls_only)
{
	struct end srv = { .psk = CREDS "good.psk" }, cli = { 0 };

	expect_refused(&srv, "the source sent a plain kvmtrack stream", &cli,
		       "TLS only here");
	cr_expect_eq(srv.ret, -EPROTO);
}

Test(tls, plain_destination_named_by_both)
{
	struct end srv = { 0 }, cli = { .psk = CREDS "good.psk" };

	run_pair(&srv, &cli);
	cr_expect(strstr(srv.msg, "the peer speaks TLS"), "destination: %s",
		  srv.msg);
	cr_expect_eq(cli.ret, -EPROTO, "source: %s", cli.msg);
}

/* The files, read before any peer is involved. */
static const char *load_error(const char *creds, const char *psk,
			      const char *name, bool server)
{
	static char err[256];
	struct mig_tls_opts o;
	struct mig_tls *t = NULL;
	int ret;

	err[0] = '\0';
	ret = mig_tls_opts_set(&o, creds, psk, &name, name ? 1 : 0, err,
			       sizeof(err));
	ret = ret ?: mig_tls_load(&o, server, &t, err, sizeof(err));
	mig_tls_free(t);
	cr_assert_neq(ret, 0, "loaded");
	return err;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert(f);
	fputs(text, f);
	fclose(f);
}

Test(tls, bad_credentials_named)
{
	char dir[] = "/tmp/kt-tls-XXXXXX", path[64];

	cr_assert(mkdtemp(dir));
	cr_expect(strstr(load_error(CREDS "src", NULL, NULL, true),
			 "server-cert.pem: No such file"), "%s",
		  load_error(CREDS "src", NULL, NULL, true));
	cr_expect(strstr(load_error(CREDS "dst", CREDS "good.psk", NULL, false),
			 "exclude each other"));
	cr_expect(strstr(load_error(NULL, CREDS "good.psk", "x", false),
			 "with --tls-creds only"));
	snprintf(path, sizeof(path), "%s/short.psk", dir);
	write_file(path, "me:00112233\n");
	cr_expect(strstr(load_error(NULL, path, NULL, false),
			 "line 1: a key of 4 bytes is too short"), "%s",
		  load_error(NULL, path, NULL, false));
	write_file(path, "# keys\nme:0011223344556677889900112233445g\n");
	cr_expect(strstr(load_error(NULL, path, NULL, false),
			 "line 2: 'g' in the key is not a hex digit"), "%s",
		  load_error(NULL, path, NULL, false));
	write_file(path, "00112233445566778899001122334455\nme:00112233445566778899001122334455\n");
	cr_expect(strstr(load_error(NULL, path, NULL, false),
			 "a key without identity: must be the only line"), "%s",
		  load_error(NULL, path, NULL, false));
	write_file(path, "\n");
	cr_expect(strstr(load_error(NULL, path, NULL, false), "no key in it"));
	unlink(path);
	rmdir(dir);
}
