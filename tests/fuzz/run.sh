#!/bin/sh
# SPDX-License-Identifier: MIT
#
# `make fuzz FUZZ_SECONDS=N`: runs each fuzz target for N seconds on a copy
# of its checked-in corpus (tests/fuzz/corpus/TARGET, left as it is), and
# fails when any target reports a crash, a leak, a sanitizer error or a
# timeout; the input that did it is left in tests/fuzz/work/TARGET/.
# Prints each target's last status line (execs/s, cov, ft).
#
# Usage: tests/fuzz/run.sh SECONDS TARGET...
set -u
cd "$(dirname "$0")/../.."
seconds=${1:?usage: run.sh SECONDS TARGET...}
shift
status=0
for t in "$@"; do
	work=tests/fuzz/work/$t
	rm -rf "$work"
	mkdir -p "$work/corpus"
	cp tests/fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null
	echo "== fuzz $t for $seconds s"
	# close_fd_mask=3: the targets' own messages (a refused stream says
	# why) would cost more than the parsing; libFuzzer keeps its report.
	tests/fuzz/fuzz-"$t" -max_total_time="$seconds" -close_fd_mask=3 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
	rc=$?
	grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$work/log" | tail -n 1
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$work/log"
	if [ "$rc" -ne 0 ]; then
		echo "== fuzz $t FAILED (exit $rc): $work/log"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$work/log" | head -n 10
		status=1
	fi
done
exit $status
