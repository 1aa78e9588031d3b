// SPDX-License-Identifier: MIT
/*
 * migrate/transport_tcp.c: which listening sockets only this host can
 * reach. A destination warns for the others (the stream is not
 * authenticated); tests/e2e/test_incoming_limits.c checks the warning.
 */
#include <criterion/criterion.h>
#include <unistd.h>

#include "migrate/transport.h"

static bool loopback(const char *uri_text)
{
	struct mig_uri uri;
	char err[256];
	bool ret;
	int fd;

	cr_assert_eq(mig_uri_parse(uri_text, &uri, err, sizeof(err)), 0, "%s",
		     err);
	fd = mig_listen_socket(&uri, err, sizeof(err));
	cr_assert_geq(fd, 0, "%s", err);
	ret = mig_listen_is_loopback(fd);
	close(fd);
	return ret;
}

Test(listen_loopback, loopback_addresses)
{
	cr_expect(loopback("tcp:127.0.0.1:0"));
	cr_expect(loopback("tcp:127.0.0.2:0"));
	cr_expect(loopback("tcp:localhost:0"));
}

Test(listen_loopback, wildcard_is_not)
{
	cr_expect_not(loopback("tcp:0.0.0.0:0"));
	cr_expect_not(loopback("tcp:[::]:0"));
}

Test(listen_loopback, not_a_socket)
{
	cr_expect_not(mig_listen_is_loopback(-1));
}
