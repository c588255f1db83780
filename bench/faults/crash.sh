#!/usr/bin/env bash
# crash.sh: kill -9 a loaded `treue serve` several times and prove that no
# acknowledged delivery was lost and no journey step or action was doubled.
#
#   bench/faults/crash.sh            # small scale: ~1 minute
#   KILLS=5 RATE=1000 DURATION=60s bench/faults/crash.sh
#
# The load tool keeps sending through the crashes, retrying connection errors
# and 5xx like a shop (same delivery id), writes every 2xx it gets to
# $WORK/acks.tsv, and at the end checks the database: every acknowledged
# delivery in the inbox exactly once, the inbox drained, every acknowledged
# step in its customer's journey once, once-per-order actions at most once
# and every acknowledged payment with exactly one points award. The acks file
# is then checked against the inbox a second time, on its own.
#
# Environment: DRIVER (mysql|sqlite), KILLS (3), RATE (150/s), DURATION (30s),
# SHOPS (2), CUSTOMERS (100 per shop), CONCURRENCY (16), SERVER_ENV, and
# those of lib.sh. Exit status 0 when every check passed.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/faults/lib.sh

KILLS=${KILLS:-3}
RATE=${RATE:-150}
DURATION=${DURATION:-30s}
SHOPS=${SHOPS:-2}
CUSTOMERS=${CUSTOMERS:-100}
CONCURRENCY=${CONCURRENCY:-16}
trap cleanup EXIT

build_tools
fresh_db
shop_flags=(--shops "$SHOPS" --mix standard=1,shopware=1 --seed 7)
write_config "${shop_flags[@]}"
start_server
log "crash: $DRIVER, $KILLS kills during $DURATION of load at $RATE/s (work dir $WORK)"

"$LOAD_BIN" --url "http://127.0.0.1:$PORT" "${shop_flags[@]}" --customers "$CUSTOMERS" \
	--rate "$RATE" --concurrency "$CONCURRENCY" --duration "$DURATION" \
	--max-retries 80 --retry-wait 250ms --timeout 5s \
	--acks "$WORK/acks.tsv" --dsn "$CHECK_DSN" --drain 90s --progress 5s \
	--label "crash-$DRIVER" --json "$WORK/crash.json" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!

secs=${DURATION%s}
# Kill at random moments spread over the load, leaving its last 5 s alone.
slot=$(((secs - 5) / KILLS))
[ "$slot" -ge 2 ] || die "DURATION too short for $KILLS kills"
for k in $(seq 1 "$KILLS"); do
	sleep "$((1 + RANDOM % (slot - 1))).$((RANDOM % 10))"
	kill -0 "$LOAD_PID" 2>/dev/null || break
	log "crash: kill -9 treue (pid $SERVER_PID), $k of $KILLS"
	crash_server
	sleep "0.$((RANDOM % 10))"
	start_server
	log "crash: restarted (pid $SERVER_PID)"
done

finish_load crash
log "crash: ok: $KILLS kills, nothing acknowledged was lost, nothing doubled"
