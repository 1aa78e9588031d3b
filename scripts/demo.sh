#!/bin/sh
# The README's main job: boot the bundled guest with a workload, migrate it
# live to a second kvmtrack on localhost, and show what happened: the
# migration's figures, the guest's heartbeat going on at the destination,
# and the guest's own check of every page it wrote, done there at the end.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/kvmtrack-demo.XXXXXX)
port=${DEMO_PORT:-$((20000 + $$ % 20000))}
src_pid=
dst_pid=
cleanup() {
	[ -n "$src_pid" ] && kill "$src_pid" 2>/dev/null || true
	[ -n "$dst_pid" ] && kill "$dst_pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# The guest must outlive the migration, or it ends on the source before it
# gets there: 6 s is 20 times what the migration takes on hardware. In the
# test VM (tests/vm/) every exit and dirty-logging fault is emulated, and
# the migration takes seconds.
if [ -n "${KVMTRACK_TEST_VM:-}" ]; then
	duration=${DEMO_DURATION:-30}
else
	duration=${DEMO_DURATION:-6}
fi
guest="workload=random wss=256M vcpus=2 rate=0 heartbeat=100 duration=$duration verify=1"
echo "== booting the bundled guest: -m 1G -c 2, '$guest'"
./kvmtrack run -m 1G -c 2 --control "$dir/src.sock" --serial "file:$dir/src.log" \
	--cmdline "$guest" guest/kvmtrack-guest.elf 2>"$dir/src.err" &
src_pid=$!
echo "== starting the destination: kvmtrack run -m 1G -c 2 --incoming tcp:127.0.0.1:$port"
./kvmtrack run -m 1G -c 2 --incoming "tcp:127.0.0.1:$port" --control "$dir/dst.sock" \
	--serial "file:$dir/dst.log" 2>"$dir/dst.err" &
dst_pid=$!
# Until the guest's third heartbeat (100 ms apart), however slow it runs.
for _ in $(seq 300); do
	[ "$(grep -c '^hb ' "$dir/src.log" 2>/dev/null)" -ge 3 ] && break
	sleep 0.1
done
echo "== the guest so far (source console):"
tail -n 3 "$dir/src.log" | sed 's/^/   | /'
echo "== kvmtrack migrate --control src.sock --to tcp:127.0.0.1:$port"
status=0
./kvmtrack migrate --control "$dir/src.sock" --to "tcp:127.0.0.1:$port" || status=$?
wait "$src_pid" || true
src_pid=
echo "== source kvmtrack's last line:"
tail -n 1 "$dir/src.err" | sed 's/^/   | /'
if [ "$status" -ne 0 ]; then
	echo "== the migration failed; the guest kept running on the source"
	exit 1
fi
echo "== the guest goes on at the destination (its console):"
head -n 3 "$dir/dst.log" | sed 's/^/   | /'
dst_status=0
wait "$dst_pid" || dst_status=$?
dst_pid=
echo "== ...and ends there, checking every page it wrote:"
grep -E 'kvmtrack-guest: (wrote|done)' "$dir/dst.log" | sed 's/^/   | /'
tail -n 1 "$dir/dst.err" | sed 's/^/   | /'
if [ "$dst_status" -eq 0 ]; then
	echo "== OK: migrated live, memory verified by digest and by the guest itself"
else
	echo "== the guest ended with status $dst_status"
	exit 1
fi
