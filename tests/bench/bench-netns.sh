#!/bin/sh
# SPDX-License-Identifier: MIT
#
# One kvmtrack live migration between two "hosts": network namespaces
# joined by a veth pair whose source side is shaped to LINK (1gbit) with
# tbf. The source runs in namespace A (10.77.0.1), the destination listens
# in namespace B (10.77.0.2); `kvmtrack migrate` only talks to the source's
# control socket (a unix socket on the file system, seen from both).
#
# The guest is scenario (b) of bench-migrate scaled to the link: 512M, a
# 128 MiB random working set, written at GUEST_RATE pages/s (10000 pages/s
# = 39 MiB/s, a third of the link, so pre-copy can converge at all).
# Reports kvmtrack's own figures (total, downtime, bytes on the wire) and
# the effective bandwidth: bytes on the wire / (total - setup).
#
# Usage: bench-netns.sh JSON_OUT LOG_DIR
# Environment: KVMTRACK (./kvmtrack), GUEST (guest/kvmtrack-guest.elf),
#   MEM (512M), WSS (128M), GUEST_RATE (10000), LINK (1gbit), FILL (stamp;
#   page: every written page incompressible).
# Prints Markdown table rows on stdout; exits 1 if it could not run.
# Needs root (ip netns, tc). Namespaces are removed on exit.

set -u

json=${1:?json output}
logdir=${2:?log directory}
kvmtrack=${KVMTRACK:-./kvmtrack}
guest=${GUEST:-guest/kvmtrack-guest.elf}
mem=${MEM:-512M}
wss=${WSS:-128M}
guest_rate=${GUEST_RATE:-10000}
link=${LINK:-1gbit}
cmdline="workload=random wss=$wss rate=$guest_rate fill=${FILL:-stamp} heartbeat=1 progress=100"

# Unique names: others may run this at the same time. Addresses live only
# inside these two namespaces.
ns_a=kt-a-$$
ns_b=kt-b-$$
port=$((40000 + $$ % 20000))
sock=/tmp/kt-netns-$$.sock
src_pid=
dst_pid=

cleanup() {
	[ -n "$src_pid" ] && kill "$src_pid" 2>/dev/null
	[ -n "$dst_pid" ] && kill "$dst_pid" 2>/dev/null
	[ -n "$src_pid" ] && wait "$src_pid" 2>/dev/null
	[ -n "$dst_pid" ] && wait "$dst_pid" 2>/dev/null
	ip netns del "$ns_a" 2>/dev/null
	ip netns del "$ns_b" 2>/dev/null
	rm -f "$sock"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "bench-netns: $*" >&2
	exit 1
}

# wait_for FILE TEXT SECONDS
wait_for() {
	n=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -gt $(($3 * 20)) ] && return 1
		sleep 0.05
	done
}

# field NAME: a number from the migration's JSON
field() {
	sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$logdir/netns-migrate.json" | head -n 1
}

mkdir -p "$logdir" || exit 1
rm -f "$logdir"/netns-*

ip netns add "$ns_a" && ip netns add "$ns_b" || fail "cannot create namespaces"
ip link add veth-a netns "$ns_a" type veth peer name veth-b netns "$ns_b" ||
	fail "cannot create the veth pair"
ip -n "$ns_a" addr add 10.77.0.1/24 dev veth-a &&
	ip -n "$ns_b" addr add 10.77.0.2/24 dev veth-b &&
	ip -n "$ns_a" link set veth-a up && ip -n "$ns_b" link set veth-b up &&
	ip -n "$ns_a" link set lo up && ip -n "$ns_b" link set lo up ||
	fail "cannot configure the link"
ip netns exec "$ns_a" tc qdisc add dev veth-a root tbf rate "$link" \
	burst 256k latency 10ms || fail "cannot shape the link"

ip netns exec "$ns_b" "$kvmtrack" run --incoming "tcp:10.77.0.2:$port" \
	--serial "file:$logdir/netns-dst.serial" 2>"$logdir/netns-dst.err" &
dst_pid=$!
wait_for "$logdir/netns-dst.err" "waiting for a migration on" 10 ||
	fail "the destination does not listen"

ip netns exec "$ns_a" "$kvmtrack" run -m "$mem" --control "$sock" \
	--serial "file:$logdir/netns-src.serial" --cmdline "$cmdline" "$guest" \
	2>"$logdir/netns-src.err" &
src_pid=$!
wait_for "$logdir/netns-src.serial" "kvmtrack-guest: workload random start" 30 ||
	fail "the source guest does not start"
sleep 2 # the working set is resident

echo "bench: netns: $mem guest, $cmdline, link $link, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$kvmtrack" migrate --control "$sock" --to "tcp:10.77.0.2:$port" --json \
	--downtime-ms 300 --timeout 60 >"$logdir/netns-migrate.json" \
	2>"$logdir/netns-migrate.err"
rc=$?
wait "$src_pid" 2>/dev/null
src_pid=

# The guest must run on at the destination: new heartbeats there.
hb0=$(grep -c '^hb ' "$logdir/netns-dst.serial" 2>/dev/null)
sleep 0.5
hb1=$(grep -c '^hb ' "$logdir/netns-dst.serial" 2>/dev/null)
runs_there=false
[ "${hb1:-0}" -gt "${hb0:-0}" ] && runs_there=true

status=$(sed -n 's/.*"status":"\([a-z]*\)".*/\1/p' "$logdir/netns-migrate.json")
total_ms=$(field total_ms)
setup_ms=$(field setup_ms)
downtime_us=$(field downtime_us)
bytes=$(field transferred_bytes)
passes=$(field passes)
if [ "$rc" -ne 0 ] || [ -z "$total_ms" ] || [ -z "$bytes" ]; then
	cat "$logdir/netns-migrate.err" >&2
	fail "migration failed (status ${status:-none})"
fi

# bandwidth over the sending time: bytes / (total - setup)
set -- $(awk -v b="$bytes" -v t="$total_ms" -v s="$setup_ms" -v d="$downtime_us" 'BEGIN {
	send = t - s; if (send <= 0) send = t
	mbs = b / send / 1000             # MB/s (10^6 bytes)
	printf "%.1f %.0f %.3f %.1f\n", mbs, mbs * 8, d / 1000, b / 1048576
}')
mb_s=$1 mbit_s=$2 downtime_ms=$3 mib=$4

cat >"$json" <<EOF
{
  "benchmark": "migrate_netns",
  "description": "kvmtrack live migration between two network namespaces, veth shaped with tbf",
  "link": "$link",
  "mem": "$mem",
  "guest_cmdline": "$cmdline",
  "downtime_limit_ms": 300,
  "status": "$status",
  "runs_at_destination": $runs_there,
  "total_ms": $total_ms,
  "setup_ms": $setup_ms,
  "downtime_ms": $downtime_ms,
  "transferred_bytes": $bytes,
  "passes": $passes,
  "effective_MB_per_s": $mb_s,
  "effective_Mbit_per_s": $mbit_s,
  "kvmtrack_json": $(cat "$logdir/netns-migrate.json")
}
EOF

note="$link veth (tbf), $mem guest, wss=$wss at $guest_rate pages/s, 1 run"
echo "| migrate netns: total time | kvmtrack | $total_ms | | | ms | $note |"
echo "| migrate netns: downtime (kvmtrack's figure) | kvmtrack | $downtime_ms | | | ms | $passes passes, guest runs there: $runs_there |"
echo "| migrate netns: on the wire | kvmtrack | $mib | | | MiB | |"
echo "| migrate netns: effective bandwidth | kvmtrack | $mbit_s | | | Mbit/s | bytes on the wire / (total - setup); $mb_s MB/s |"
[ "$status" = completed ] && [ "$runs_there" = true ]
