// SPDX-License-Identifier: MIT
/*
 * The peer test: QEMU boots the very same guest file through PVH and
 * reaches its banner, so later benchmarks compare like with like.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"

Test(qemu_peer, boots_the_bundled_guest_to_its_banner, .timeout = 120)
{
	const char *argv[] = { "qemu-system-x86_64", "-enable-kvm", "-m", "256",
			       "-nographic", "-nodefaults", "-no-reboot",
			       "-serial", "stdio", "-kernel", GUEST_ELF,
			       "-append", "workload=sweep wss=4M duration=1",
			       NULL };
	struct bg_proc p;
	struct proc_result r;

	cr_assert_eq(bg_start(argv, &p), 0);
	cr_expect(bg_wait_output(&p, "kvmtrack-guest ", 60000),
		  "QEMU did not reach the guest's banner");
	/* Without a debug-exit device the guest halts: stop QEMU. */
	bg_wait_output(&p, "kvmtrack-guest: done", 30000);
	kill(p.pid, SIGTERM);
	bg_wait(&p, 10, &r);
	cr_expect(strstr(r.out, "kvmtrack-guest: done status=0"), "%s", r.out);
	proc_result_free(&r);
}
