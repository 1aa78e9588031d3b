#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Guest page-write rate at CPL3 with no dirty tracking: boots the bundled
# guest under kvmtrack with one workload, RUNS times, and reads the rate
# the guest itself measures (TSC-timed, from the start to the end of its
# workload) from its serial lines:
#   kvmtrack-guest: wrote N pages in M ms: R pages/s, ...
#   kvmtrack-guest: done status=0 pages_written=N ...
# A "page write" stores one 16-byte stamp (pfn, generation) into a 4 KiB
# page, so GB/s here is page-equivalent bandwidth (pages/s * 4096), not
# bytes stored.
#
# The whole-run rate includes the first touch of every page of the working
# set (the host allocates it then), so a steady rate is reported beside it:
# from the first progress line whose last report interval touched every
# page (distinct0 == working-set pages) to the last progress line. A run
# still faulting pages in at its second-to-last line gives no steady sample.
#
# Usage: bench-pagerate.sh WORKLOAD JSON_OUT LOG_DIR
# Environment: KVMTRACK (./kvmtrack), GUEST (guest/kvmtrack-guest.elf),
#   RUNS (3), MEM (1G), WSS (512M), DURATION_S (3).
# Prints Markdown table rows on stdout; exits 1 if any run failed.

set -u

wl=${1:?workload}
json=${2:?json output}
logdir=${3:?log directory}
kvmtrack=${KVMTRACK:-./kvmtrack}
guest=${GUEST:-guest/kvmtrack-guest.elf}
runs=${RUNS:-3}
mem=${MEM:-1G}
wss=${WSS:-512M}
duration_s=${DURATION_S:-3}
cmdline="workload=$wl wss=$wss duration=$duration_s"

mkdir -p "$logdir" || exit 1
samples=""
failed=0
i=1
while [ "$i" -le "$runs" ]; do
	log="$logdir/pagerate-$wl-$i.log"
	timeout $((duration_s + 30)) "$kvmtrack" run -m "$mem" \
		--cmdline "$cmdline" "$guest" >"$log" 2>&1
	rc=$?
	# One sample: "pages ms pages_per_s steady_pages_per_s", or nothing.
	if s=$(awk -v rc="$rc" '
		/kvmtrack-guest: working set .*pages\)/ {
			match($0, /\([0-9]+ pages\)/)
			ws = substr($0, RSTART + 1, RLENGTH - 8) + 0
		}
		/kvmtrack-guest: progress t=/ {
			t = $3; sub(/^t=/, "", t); sub(/s$/, "", t)
			p = $4; sub(/^pages=/, "", p)
			d = $5; sub(/^distinct0=/, "", d)
			lt = t + 0; lp = p + 0
			# All pages touched by now: no first-touch faults after.
			if (!warm && ws && d + 0 >= ws) {
				warm = 1; ft = lt; fp = lp
			}
		}
		/kvmtrack-guest: wrote [0-9]+ pages in [0-9]+ ms:/ {
			wrote = $3; ms = $6; rate = $8
		}
		/kvmtrack-guest: done status=/ {
			st = $3; sub(/^status=/, "", st)
			pw = $4; sub(/^pages_written=/, "", pw)
			done = 1
		}
		END {
			if (rc != 0 || !done || st != 0 || pw != wrote || ms == 0)
				exit 1
			if (warm && lt > ft)
				printf "%d %d %d %.0f\n", wrote, ms, rate, (lp - fp) / (lt - ft)
			else
				printf "%d %d %d -\n", wrote, ms, rate
		}' "$log") && [ -n "$s" ]; then
		samples="$samples$s
"
	else
		echo "bench-pagerate: $wl run $i failed (exit $rc), see $log" >&2
		failed=$((failed + 1))
	fi
	i=$((i + 1))
done

# Median, min, max of columns 3 (whole run) and 4 (steady), then JSON and rows.
printf '%s' "$samples" | awk -v wl="$wl" -v json="$json" -v runs="$runs" \
	-v failed="$failed" -v cmd="$kvmtrack run -m $mem --cmdline '$cmdline' $guest" '
	function sort(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
	}
	function median(a, n) {
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function list(a, n,   i, s) {
		for (i = 1; i <= n; i++)
			s = s (i > 1 ? ", " : "") sprintf("%.0f", a[i])
		return "[" s "]"
	}
	NF == 4 {
		n++; pages[n] = $1; ms[n] = $2; rate[n] = $3
		if ($4 != "-")
			steady[++ns] = $4
	}
	END {
		raw_rate = list(rate, n); raw_steady = list(steady, ns)
		raw_pages = list(pages, n); raw_ms = list(ms, n)
		sort(rate, n); sort(steady, ns)
		m = n ? median(rate, n) : 0; ms_ = ns ? median(steady, ns) : 0
		gb = 4096 / 1e9
		printf "{\n  \"benchmark\": \"page_write_rate\",\n" > json
		printf "  \"workload\": \"%s\",\n  \"tracking\": \"none\",\n", wl > json
		printf "  \"command\": \"%s\",\n", cmd > json
		printf "  \"note\": \"one page write = one 16-byte stamp into a 4 KiB page; GB/s = pages/s * 4096\",\n" > json
		printf "  \"runs\": %d,\n  \"ok_runs\": %d,\n  \"failed_runs\": %d,\n", runs, n, failed > json
		printf "  \"pages_per_s\": {\"median\": %.0f, \"min\": %.0f, \"max\": %.0f, \"samples\": %s},\n", \
			m, rate[1], rate[n], raw_rate > json
		printf "  \"gb_per_s\": {\"median\": %.3f, \"min\": %.3f, \"max\": %.3f},\n", \
			m * gb, rate[1] * gb, rate[n] * gb > json
		printf "  \"steady_pages_per_s\": {\"median\": %.0f, \"min\": %.0f, \"max\": %.0f, \"samples\": %s},\n", \
			ms_, steady[1], steady[ns], raw_steady > json
		printf "  \"steady_gb_per_s\": {\"median\": %.3f, \"min\": %.3f, \"max\": %.3f},\n", \
			ms_ * gb, steady[1] * gb, steady[ns] * gb > json
		printf "  \"pages_written\": %s,\n  \"guest_ms\": %s\n}\n", raw_pages, raw_ms > json
		note = sprintf("%d runs%s", n, failed ? sprintf(", %d failed", failed) : "")
		title = "CPL3 page writes, " wl ", no tracking"
		printf "| %s | kvmtrack | %.2f | %.2f | %.2f | M pages/s | whole run; %s |\n", \
			title, m / 1e6, rate[1] / 1e6, rate[n] / 1e6, note
		printf "| %s | kvmtrack | %.2f | %.2f | %.2f | GB/s (page-equiv.) | whole run |\n", \
			title, m * gb, rate[1] * gb, rate[n] * gb
		snote = sprintf("steady: after all pages touched; %d of %d runs", ns, n)
		printf "| %s | kvmtrack | %.2f | %.2f | %.2f | M pages/s | %s |\n", \
			title, ms_ / 1e6, steady[1] / 1e6, steady[ns] / 1e6, snote
		printf "| %s | kvmtrack | %.2f | %.2f | %.2f | GB/s (page-equiv.) | steady |\n", \
			title, ms_ * gb, steady[1] * gb, steady[ns] * gb
	}'
[ "$failed" -eq 0 ]
