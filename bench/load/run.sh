#!/usr/bin/env bash
# Runs one measurement: a fresh database, a fresh `treue serve`, the load
# tool with its database checks, then stops the server. Run from the
# repository root.
#
#   bench/load/run.sh OUT.json [load flags...]
#
# Environment (see bench/faults/lib.sh): DRIVER=mysql|sqlite|minimal,
# TREUE_BIN, LOAD_BIN, SERVER_ENV, PORT, LABEL (stored in the JSON).
# DRIVER=minimal measures bench/load/minimal instead of Treue (no checks).
#
# Example: baseline against group commit, MySQL, 30 s each:
#   SERVER_ENV=TREUE_WEBHOOKS_GROUP_COMMIT=false LABEL=mysql-baseline bench/load/run.sh /tmp/b1.json --duration 30s
#   SERVER_ENV=TREUE_WEBHOOKS_GROUP_COMMIT=true  LABEL=mysql-group    bench/load/run.sh /tmp/g1.json --duration 30s
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/load/run.sh OUT.json [load flags...]}
shift
mode=${DRIVER:-mysql}
if [ "$mode" = minimal ]; then DRIVER=sqlite; fi
. bench/faults/lib.sh
build_tools
trap cleanup EXIT

if [ "$mode" = minimal ]; then
	MIN_BIN=${MIN_BIN:-$WORK/minimal}
	[ -x "$MIN_BIN" ] || go build -o "$MIN_BIN" ./bench/load/minimal
	"$MIN_BIN" --addr "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
	SERVER_PID=$!
	sleep 0.5
	"$LOAD_BIN" --url "http://127.0.0.1:$PORT" --mix standard --expect-dedup=false \
		--server-pid "$SERVER_PID" --label "${LABEL:-minimal}" --json "$out" "$@"
	exit $?
fi

fresh_db
# The shops must match between config and load: pass the same --shops/--mix/--seed.
shop_flags=()
for a in "$@"; do
	case "$a" in --shops=* | --mix=* | --seed=*) shop_flags+=("$a") ;; esac
done
# (flags given as "--shops 4" are handled below)
args=("$@")
for i in "${!args[@]}"; do
	case "${args[$i]}" in --shops | --mix | --seed) shop_flags+=("${args[$i]}" "${args[$((i + 1))]}") ;; esac
done
write_config "${shop_flags[@]}"
start_server
# The database server's CPU is part of what a delivery costs.
db_pid=()
if [ "$DRIVER" = mysql ] && p=$(pgrep -o -x mariadbd || pgrep -o -x mysqld); then db_pid=(--db-pid "$p"); fi
status=0
"$LOAD_BIN" --url "http://127.0.0.1:$PORT" --dsn "$CHECK_DSN" --server-pid "$SERVER_PID" "${db_pid[@]}" \
	--label "${LABEL:-$DRIVER}" --json "$out" "$@" || status=$?
if grep -qiE '"level":"ERROR"|panic' "$WORK/server.log"; then
	log "server log has errors:"
	grep -iE '"level":"ERROR"|panic' "$WORK/server.log" | head -5 >&2
fi
exit $status
