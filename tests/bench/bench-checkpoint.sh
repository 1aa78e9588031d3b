#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Checkpoints of a running guest, kvmtrack beside QEMU on the same guest
# and workload (issue 14's goals):
# - kvmtrack: `checkpoint --every 1s --keep 5 --json` on a 1 GiB guest that
#   writes RATE random pages a second into 256 MiB, so that each
#   incremental checkpoint holds what one second wrote (16 MiB at 4096
#   pages/s): its pause, its size on disk, its whole time; the ticks it
#   missed; the chain's disk use at the end.
# - QEMU: `migrate "exec:cat > FILE"` of the same guest (QEMU has no
#   incremental snapshot: each one is the whole state), then `cont`: its
#   total time, its downtime and the file's size.
# - Restore: from the start of the process until the guest's next serial
#   line, `kvmtrack run --restore` of the chain (copy, then lazy) against
#   QEMU's `-incoming "exec:cat FILE"` of its last file.
# bash for QMP over /dev/tcp (the test VM has no socat).
#
# Usage: bench-checkpoint.sh JSON_OUT LOG_DIR
# Environment: KVMTRACK (./kvmtrack), GUEST (guest/kvmtrack-guest.elf),
#   QEMU (qemu-system-x86_64), RATE (4096), TICKS (8), QEMU_RUNS (3),
#   RESTORE_RUNS (3), GUEST_CMDLINE (the guest's; it must print "hb" lines,
#   e.g. scenario (b) of bench-migrate: "workload=random wss=256M
#   rate=100000 heartbeat=10 duration=600").
# Prints Markdown table rows on stdout; exits 1 if it could not run.

set -u

json=${1:?json output}
logdir=${2:?log directory}
kvmtrack=${KVMTRACK:-./kvmtrack}
guest=${GUEST:-guest/kvmtrack-guest.elf}
qemu=${QEMU:-qemu-system-x86_64}
rate=${RATE:-4096}
ticks=${TICKS:-8}
qemu_runs=${QEMU_RUNS:-3}
restore_runs=${RESTORE_RUNS:-3}
cmdline=${GUEST_CMDLINE:-"workload=random wss=256M rate=$rate fill=page heartbeat=10 duration=600"}
work=$(mktemp -d /tmp/kt-bench-ckpt.XXXXXX) || exit 1
port=$((30000 + $$ % 20000))
pids=

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "bench-checkpoint: $*" >&2
	exit 1
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# Until FILE has at least N lines starting with "hb " (TIMEOUT s).
wait_hb() { # FILE N TIMEOUT
	local end=$(($(now_ms) + $3 * 1000)) n
	while n=$(grep -c '^hb ' "$1" 2>/dev/null); [ "${n:-0}" -lt "$2" ]; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.005
	done
}

median() { # numbers on stdin
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else print "null" }'
}

max() {
	sort -n | tail -n 1
}

# --- kvmtrack: --every 1s --keep 5 -------------------------------------------
"$kvmtrack" run -m 1G --control "$work/kt.sock" --serial "file:$work/kt.log" \
	--cmdline "$cmdline" "$guest" 2>"$logdir/ckpt-kt-run.err" &
pids="$pids $!"
wait_hb "$work/kt.log" 100 120 || fail "kvmtrack's guest did not start"
"$kvmtrack" checkpoint --control "$work/kt.sock" --to "$work/chain" \
	--every 1s --keep 5 --json >"$logdir/ckpt-kt.jsonl" \
	2>"$logdir/ckpt-kt.err" &
every=$!
while [ "$(wc -l <"$logdir/ckpt-kt.jsonl")" -lt "$ticks" ]; do
	kill -0 "$every" 2>/dev/null || fail "checkpoint --every ended: $(cat "$logdir/ckpt-kt.err")"
	sleep 0.1
done
kill -INT "$every"
wait "$every" || fail "checkpoint --every failed: $(cat "$logdir/ckpt-kt.err")"
missed=$(sed -n 's/.*, \([0-9]*\) ticks missed.*/\1/p' "$logdir/ckpt-kt.err")
disk_kib=$(du -sk "$work/chain" | cut -f1)
grep -c '"parent":null' "$logdir/ckpt-kt.jsonl" | grep -qx 1 ||
	fail "more than one full checkpoint"
field() { # KEY: its values over the incremental checkpoints (the first
	# of that name: "pages" is also in the pause's breakdown)
	grep -v '"parent":null' "$logdir/ckpt-kt.jsonl" |
		sed -n "s/^[^{]*{[^{]*\"$1\":\([0-9.e+-]*\).*/\1/p"
}
kt_pause=$(field pause_ms | median)
kt_pause_max=$(field pause_ms | max)
kt_total=$(field total_ms | median)
kt_mib=$(field bytes | awk '{ print $1 / 1048576 }' | median)
kt_pages=$(field pages | median)
full_pause=$(grep '"parent":null' "$logdir/ckpt-kt.jsonl" | sed -n 's/.*"pause_ms":\([0-9.]*\).*/\1/p')

# Restores of the newest checkpoint, each until the guest's next line.
restore_ms() { # COMMAND...: ms from its start to a heartbeat on its serial
	local log=$work/restore.log t0 ms
	rm -f "$log"
	t0=$(now_ms)
	"$@" >/dev/null 2>>"$logdir/ckpt-restore.err" &
	local pid=$!
	if wait_hb "$log" 1 120; then ms=$(($(now_ms) - t0)); else ms=; fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "$ms"
}
kt_restore=$(for _ in $(seq "$restore_runs"); do
	restore_ms "$kvmtrack" run --restore "$work/chain" --serial "file:$work/restore.log"
done | median)
kt_lazy=$(for _ in $(seq "$restore_runs"); do
	restore_ms "$kvmtrack" run --restore "$work/chain" --restore-mode lazy \
		--serial "file:$work/restore.log"
done | median)
# kvmtrack's own figure: from the start of the restore until the guest
# could run, and until every page was in place (the process may be
# stopped before that).
kt_lazy_run=$(sed -n 's/.*(lazy): .* the guest can run \([0-9.]*\) ms after.*/\1/p' \
	"$logdir/ckpt-restore.err" | median)
kt_lazy_all=$(sed -n 's/.*every page in place \([0-9.]*\) ms after.*/\1/p' \
	"$logdir/ckpt-restore.err" | median)
for p in $pids; do kill "$p" 2>/dev/null; done

# --- QEMU: migrate to a file, then cont ---------------------------------------
qmp() { # JSON: sends it, prints the reply (events skipped)
	local line
	printf '%s\n' "$1" >&3
	while read -r -t 60 line <&3; do
		case $line in '{"event"'*) continue ;; esac
		printf '%s\n' "$line"
		return 0
	done
	return 1
}
qemu_args=(-enable-kvm -m 1G -nographic -nodefaults -no-reboot
	-kernel "$guest" -append "$cmdline")
"$qemu" "${qemu_args[@]}" -serial "file:$work/q.log" \
	-qmp "tcp:127.0.0.1:$port,server=on,wait=off" 2>"$logdir/ckpt-qemu.err" &
pids="$pids $!"
wait_hb "$work/q.log" 100 120 || fail "QEMU's guest did not start"
for _ in $(seq 100); do
	exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null && break
	sleep 0.1
done 2>/dev/null
{ true >&3; } 2>/dev/null || fail "no QMP on port $port"
read -r -t 10 _ <&3
qmp '{"execute":"qmp_capabilities"}' >/dev/null || fail "QMP"
: >"$logdir/ckpt-qemu.jsonl"
prev=
for i in $(seq "$qemu_runs"); do
	sleep 1
	qmp "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"exec:cat > $work/q$i.state\"}}" >/dev/null
	# Until this one completed: the one before stays "completed" until
	# the new one has started.
	while :; do
		r=$(qmp '{"execute":"query-migrate"}') || fail "query-migrate"
		case $r in
		*'"completed"'*) [ "$r" != "$prev" ] && break ;;
		*'"failed"'* | *'"cancelled"'*) fail "QEMU's migration: $r" ;;
		esac
		sleep 0.01
	done
	prev=$r
	echo "$r" >>"$logdir/ckpt-qemu.jsonl"
	qmp '{"execute":"cont"}' >/dev/null
done
q_mib=$(du -k "$work/q$qemu_runs.state" | awk '{ print $1 / 1024 }')
exec 3>&-
q_total=$(sed -n 's/.*"total-time": \([0-9]*\).*/\1/p' "$logdir/ckpt-qemu.jsonl" | median)
q_down=$(sed -n 's/.*"downtime": \([0-9]*\).*/\1/p' "$logdir/ckpt-qemu.jsonl" | median)
q_restore=$(for _ in $(seq "$restore_runs"); do
	restore_ms "$qemu" "${qemu_args[@]}" -serial "file:$work/restore.log" \
		-incoming "exec:cat $work/q$qemu_runs.state"
done | median)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "null"; else printf "%.3f\n", a / b }'; }

cat >"$json" <<EOF
{
  "benchmark": "checkpoint",
  "description": "1 GiB guest ($cmdline): kvmtrack checkpoint --every 1s --keep 5 beside QEMU migrate exec:cat > FILE; restores until the next serial line",
  "guest_cmdline": "$cmdline",
  "kvmtrack": {
    "checkpoints": $(wc -l <"$logdir/ckpt-kt.jsonl"),
    "ticks_missed": ${missed:-null},
    "full_pause_ms": ${full_pause:-null},
    "incremental_pause_ms_median": $kt_pause,
    "incremental_pause_ms_max": ${kt_pause_max:-null},
    "incremental_total_ms_median": $kt_total,
    "incremental_MiB_median": $kt_mib,
    "incremental_pages_median": $kt_pages,
    "chain_disk_KiB_keep5": $disk_kib,
    "restore_ms_median": $kt_restore,
    "lazy_restore_ms_median": $kt_lazy,
    "lazy_guest_can_run_ms_median": $kt_lazy_run,
    "lazy_all_pages_in_place_ms_median": $kt_lazy_all
  },
  "qemu": {
    "runs": $qemu_runs,
    "total_ms_median": $q_total,
    "downtime_ms_median": $q_down,
    "file_MiB": ${q_mib:-null},
    "restore_ms_median": $q_restore
  },
  "ratios": {
    "lazy_restore": $(ratio "$kt_lazy" "$q_restore"),
    "pause": $(ratio "$kt_pause" "$q_down"),
    "total": $(ratio "$kt_total" "$q_total"),
    "restore": $(ratio "$kt_restore" "$q_restore")
  }
}
EOF

note="1 GiB guest, '$cmdline'; medians over $((ticks - 1)) incremental checkpoints (kvmtrack) and $qemu_runs files (QEMU)"
echo "| checkpoint: guest paused (incremental, --every 1s) | kvmtrack | $kt_pause | | $kt_pause_max | ms | $note; $missed ticks missed |"
echo "| checkpoint: guest paused (exec:cat > FILE) | QEMU | $q_down | | | ms | ratio $(ratio "$kt_pause" "$q_down") |"
echo "| checkpoint: whole time | kvmtrack | $kt_total | | | ms | |"
echo "| checkpoint: whole time | QEMU | $q_total | | | ms | ratio $(ratio "$kt_total" "$q_total") |"
echo "| checkpoint: on disk | kvmtrack | $kt_mib | | | MiB | $kt_pages pages a layer; the chain (--keep 5) $((disk_kib / 1024)) MiB |"
echo "| checkpoint: on disk | QEMU | ${q_mib:-} | | | MiB | the whole state each time |"
echo "| checkpoint: restore until the guest's next line | kvmtrack | $kt_restore | | | ms | copy mode, every page checked |"
echo "| checkpoint: lazy restore until the guest's next line | kvmtrack | $kt_lazy | | | ms | the guest could run after $kt_lazy_run ms (kvmtrack's log) |"
echo "| checkpoint: restore until the guest's next line | QEMU | $q_restore | | | ms | -incoming exec:cat FILE; ratio $(ratio "$kt_restore" "$q_restore") |"
