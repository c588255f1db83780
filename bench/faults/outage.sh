#!/usr/bin/env bash
# outage.sh: stop MariaDB under load. Treue must answer 503 (so shops retry)
# and stay up; when the database is back it recovers by itself, and nothing
# acknowledged is lost or doubled.
#
#   bench/faults/outage.sh           # small scale: ~1 minute
#   OUTAGE=20 RATE=1000 bench/faults/outage.sh
#
# MariaDB is stopped with `mysqladmin shutdown` and started again with
# start-stop-daemon; it is always restarted when the script ends, whatever
# happens. Other users of the same MariaDB see the outage too: keep it short.
#
# Environment: OUTAGE (seconds, 8), RATE (100/s), DURATION (30s), SHOPS (2),
# CUSTOMERS (100), CONCURRENCY (16), SERVER_ENV, and those of lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
DRIVER=mysql # the outage is MariaDB's
. bench/faults/lib.sh

OUTAGE=${OUTAGE:-8}
RATE=${RATE:-100}
DURATION=${DURATION:-30s}
SHOPS=${SHOPS:-2}
CUSTOMERS=${CUSTOMERS:-100}
CONCURRENCY=${CONCURRENCY:-16}

start_mariadb() {
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
	for _ in $(seq 1 120); do
		mysqladmin -uroot -h127.0.0.1 --protocol=tcp ping >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}
trap 'start_mariadb || log "MariaDB did not come back: start it by hand"; cleanup' EXIT

build_tools
fresh_db
shop_flags=(--shops "$SHOPS" --mix standard=1,shopware=1 --seed 11)
write_config "${shop_flags[@]}"
start_server
log "outage: MariaDB down for ${OUTAGE}s during $DURATION of load at $RATE/s (work dir $WORK)"

# A shop's patience: retries every ~0.25-1 s, for longer than the outage.
retries=$((OUTAGE * 4 + 40))
"$LOAD_BIN" --url "http://127.0.0.1:$PORT" "${shop_flags[@]}" --customers "$CUSTOMERS" \
	--rate "$RATE" --concurrency "$CONCURRENCY" --duration "$DURATION" \
	--max-retries "$retries" --retry-wait 250ms --retry-wait-max 1s --timeout 5s \
	--acks "$WORK/acks.tsv" --dsn "$CHECK_DSN" --drain 90s --progress 5s --expect-503 \
	--label outage --json "$WORK/outage.json" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!

sleep 8
log "outage: stopping MariaDB"
mysqladmin -uroot -h127.0.0.1 --protocol=tcp shutdown
down_at=$(date +%s)
sleep 2
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" || true)
log "outage: /readyz answers $code while the database is down"
[ "$code" = 503 ] || die "outage: /readyz answered $code, want 503"
sleep "$((OUTAGE - 2))"
kill -0 "$SERVER_PID" 2>/dev/null || die "outage: treue serve died during the outage"
log "outage: starting MariaDB after $(($(date +%s) - down_at))s"
start_mariadb || die "outage: MariaDB does not come back"

# Recovery by itself: ready again within 30 s, without a restart.
for i in $(seq 1 150); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" || true)
	[ "$code" = 200 ] && break
	sleep 0.2
done
[ "$code" = 200 ] || die "outage: /readyz still answers $code 30 s after the database came back"
log "outage: ready again $((i / 5))s after MariaDB answered"

finish_load outage
log "outage: ok: 503 during the outage, recovered without a restart, nothing acknowledged lost"
