# Shared helpers of the bench scripts (bench/faults/*.sh, bench/load/run.sh).
# Source it from the repository root: . bench/faults/lib.sh
#
# Environment:
#   DRIVER     mysql (default) or sqlite
#   MYSQL_DSN  server DSN without database (default root:@tcp(127.0.0.1:3306)/)
#   PORT       Treue's port (default 28080)
#   WORK       scratch directory (default: a new one under /tmp)
#   TREUE_BIN  a built treue binary (default: built from ./cmd/treue)
#   LOAD_BIN   a built load tool (default: built from ./bench/load)
#   SERVER_ENV extra environment for treue serve, e.g. "TREUE_WEBHOOKS_GROUP_COMMIT=true"

set -euo pipefail

DRIVER=${DRIVER:-mysql}
MYSQL_DSN=${MYSQL_DSN:-root:@tcp(127.0.0.1:3306)/}
PORT=${PORT:-28080}
if [ -z "${WORK:-}" ]; then
	WORK=$(mktemp -d /tmp/treue-bench.XXXXXX)
	WORK_IS_TEMP=1
fi
DB_NAME=${DB_NAME:-treue_bench_$$}
SERVER_PID=
mkdir -p "$WORK"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# mysql_cli runs the mysql client against the MariaDB named by MYSQL_DSN
# (root without a password on 127.0.0.1:3306 unless you change it here).
mysql_cli() { mysql -uroot -h127.0.0.1 -P3306 --protocol=tcp "$@"; }

# ensure_mariadb starts MariaDB when it does not answer.
ensure_mariadb() {
	[ "$DRIVER" = mysql ] || return 0
	if mysqladmin -uroot -h127.0.0.1 --protocol=tcp ping >/dev/null 2>&1; then return 0; fi
	log "starting MariaDB"
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
	for _ in $(seq 1 60); do
		mysqladmin -uroot -h127.0.0.1 --protocol=tcp ping >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	die "MariaDB does not answer"
}

build_tools() {
	if [ -z "${TREUE_BIN:-}" ]; then
		TREUE_BIN=$WORK/treue
		go build -o "$TREUE_BIN" ./cmd/treue
	fi
	if [ -z "${LOAD_BIN:-}" ]; then
		LOAD_BIN=$WORK/load
		go build -o "$LOAD_BIN" ./bench/load
	fi
}

# fresh_db creates an empty database and sets SERVER_DSN and CHECK_DSN.
fresh_db() {
	if [ "$DRIVER" = mysql ]; then
		ensure_mariadb
		mysql_cli -e "DROP DATABASE IF EXISTS $DB_NAME; CREATE DATABASE $DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
		SERVER_DSN="${MYSQL_DSN%/}/$DB_NAME?parseTime=true"
		CHECK_DSN="${MYSQL_DSN%/}/$DB_NAME"
	else
		rm -f "$WORK"/treue.db*
		SERVER_DSN=$WORK/treue.db
		CHECK_DSN=sqlite:$WORK/treue.db
	fi
}

# cleanup stops the server, drops the database and removes a temporary WORK.
cleanup() {
	if [ -n "${LOAD_PID:-}" ] && kill -0 "$LOAD_PID" 2>/dev/null; then kill "$LOAD_PID" 2>/dev/null || true; fi
	stop_server
	drop_db
	if [ -n "${WORK_IS_TEMP:-}" ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; fi
}

drop_db() {
	if [ "$DRIVER" = mysql ] && mysqladmin -uroot -h127.0.0.1 --protocol=tcp ping >/dev/null 2>&1; then
		mysql_cli -e "DROP DATABASE IF EXISTS $DB_NAME" || true
	fi
}

# write_config LOADFLAGS... writes $WORK/treue.yaml for the load shops.
write_config() {
	"$LOAD_BIN" --print-config --listen "127.0.0.1:$PORT" --server-driver "$DRIVER" --server-dsn "$SERVER_DSN" "$@" >"$WORK/treue.yaml"
}

# start_server starts treue serve in the background and waits until it is ready.
start_server() {
	# Another server on the port would answer the readiness check for ours.
	if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then
		die "something already answers on port $PORT (another run? set PORT)"
	fi
	# shellcheck disable=SC2086
	env ${SERVER_ENV:-} "$TREUE_BIN" --config "$WORK/treue.yaml" serve >>"$WORK/server.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 100); do
		if curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then return 0; fi
		kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/server.log" >&2; die "treue serve exited"; }
		sleep 0.2
	done
	die "treue serve is not ready after 20s"
}

# stop_server stops our treue process (SIGTERM, then SIGKILL after 30 s).
stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 1 150); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# crash_server kills our treue process with SIGKILL, as a power cut would.
crash_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# finish_load NAME waits for the load tool started in the background and
# prints its report. NAME fails unless the load tool's checks pass, the acks
# file alone checks against the inbox (each acknowledged delivery once) and
# treue serve still runs.
finish_load() {
	local status=0
	wait "$LOAD_PID" || status=$?
	LOAD_PID=
	cat "$WORK/load.out"
	[ "$status" -eq 0 ] || die "$1: the load tool's checks failed (exit $status)"
	"$LOAD_BIN" --check-acks "$WORK/acks.tsv" --dsn "$CHECK_DSN" || die "$1: acks file check failed"
	kill -0 "$SERVER_PID" 2>/dev/null || die "$1: treue serve is not running at the end"
}
