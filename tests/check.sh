#!/bin/sh
# SPDX-License-Identifier: MIT
#
# `make check`: the unit tests here (they need no /dev/kvm), then the KVM,
# end-to-end and Linux suites (tests/suites.sh) where a working /dev/kvm
# is: here, or inside the test VM (tests/vm/with-kvm). Ends with the count
# of tests each side ran, from Criterion's synthesis lines.
cd "$(dirname "$0")/.." || exit 1
logs=$(mktemp -d /tmp/kvmtrack-check.XXXXXX) || exit 1
trap 'rm -rf "$logs"' EXIT

# run NAME COMMAND...: COMMAND's output passes through and into $logs/NAME.
run() {
	name=$1
	shift
	{ "$@" 2>&1; echo $? >"$logs/$name.rc"; } | tee "$logs/$name"
	return "$(cat "$logs/$name.rc")"
}

# count FILE: "tested passed failed" summed over Criterion's synthesis lines.
count() {
	tr -d '\r' <"$1" | awk '/Synthesis: Tested:/ {
		for (i = 1; i <= NF; i++) {
			if ($i == "Tested:") t += $(i + 1)
			if ($i == "Passing:") p += $(i + 1)
		}
	} END { print t + 0, p + 0, t - p }'
}

# failures FILE: each failed test with its last messages, so that the
# end of a long log (all that CI shows) names what failed and why.
failures() {
	tr -d '\r' <"$1" | awk '
		/^\[RUN / { n = 0 }
		/^\[----\]/ { msg[n++ % 8] = substr($0, 1, 300) }
		/Warning! The test/ { print "warning: " substr($0, 8) }
		# Criterion 2.4 ends with status 1 after any [WARN] or [ERR ].
		/^\[(WARN|ERR )\]/ { print "logged (fails its suite): " substr($0, 1, 300) }
		/^== .*: exit [0-9]+$/ { print "failed: " substr($0, 4) }
		/^\[FAIL\]/ {
			print "failed: " substr($0, 8)
			for (i = (n > 8 ? n - 8 : 0); i < n; i++)
				print "    " msg[i % 8]
			n = 0
		}'
}

status=0
echo "== unit tests (no /dev/kvm needed)"
run unit tests/unit/unit-tests --jobs=2 || status=1
# Debian's kernel is fetched here: the VM has no network.
tests/linux/fetch-kernel.sh || status=1
run suites tests/vm/with-kvm --timeout 3000 -- tests/suites.sh || status=1

set -- $(count "$logs/unit")
unit_t=$1 unit_p=$2 unit_f=$3
set -- $(count "$logs/suites")
where=here
grep -q '^== .*inside the test VM' "$logs/suites" && where="inside the test VM"
echo "== unit tests here: $unit_t run, $unit_f failed; KVM, end-to-end and Linux tests $where: $1 run, $3 failed"
[ "$1" -gt 0 ] || { echo "check: no KVM test ran"; status=1; }
failures "$logs/unit"
failures "$logs/suites"
echo "check: $((unit_p + $2)) passed, $((unit_f + $3)) failed"
exit $status
