#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The suites that need a working /dev/kvm: KVM tests (real guests),
# end-to-end tests (real processes over real sockets, QEMU as a peer) and
# the Linux tests (Debian's kernel). Run by `make check` on this host when
# its KVM works, else inside the test VM (tests/vm/run). Every suite runs
# even when one before it failed; the status says whether all passed.
cd "$(dirname "$0")/.." || exit 1
status=0
# --verbose names each test as it starts, so a hang shows where it is; a
# test still running after 300 s fails rather than stop the suite.
# A suite that fails with no failed test (a crash after its synthesis, a
# teardown that died) says so, since its counts alone would not show it.
suite() { # suite TITLE BINARY
	echo "== $1"
	"$2" --jobs=1 --verbose --timeout 300
	rc=$?
	[ "$rc" -eq 0 ] && return
	echo "== $2: exit $rc"
	status=1
}
suite "KVM tests (real guests)" tests/kvm/kvm-tests
suite "end-to-end tests (real processes)" tests/e2e/e2e-tests
suite "Linux kernel tests (Debian's kernel, from tests/linux-cache/)" \
	tests/linux/linux-tests
exit $status
