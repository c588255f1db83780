#!/usr/bin/env bash
# Times the reports a merchant reads, on a shop bench/seed filled:
#   go run ./bench/seed --customers 100000 --events 1000000
#   bench/report/run.sh            # 3 runs of each report on shop acme
# Each run is the whole `treue report` command, process start included,
# against the database in DSN (default: bench/seed's). RUNS, SHOP, DSN and
# the seed's secret key (TREUE_SECURITY_SECRET_KEY) can be set.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
SHOP=${SHOP:-acme}
DSN=${DSN:-root:@tcp(127.0.0.1:3306)/treue_seed?parseTime=true}
KEY=${TREUE_SECURITY_SECRET_KEY:-treue-bench-seed-key-not-for-production-use}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/treue" ./cmd/treue
cat > "$work/treue.yaml" <<YAML
database: {driver: mysql, dsn: "$DSN"}
security: {secret_key: "$KEY"}
rules: {file: examples/rules.yaml}
YAML
"$work/treue" --config "$work/treue.yaml" migrate >/dev/null

# time_report NAME ARGS…: RUNS runs, each one's wall time, then the median.
time_report() {
	local name=$1
	shift
	local times=()
	for _ in $(seq "$RUNS"); do
		local t0 t1
		t0=$(date +%s.%N)
		"$work/treue" --config "$work/treue.yaml" report "$@" --shop "$SHOP" --format json >"$work/out.json" 2>"$work/err" || {
			cat "$work/err" >&2
			exit 1
		}
		t1=$(date +%s.%N)
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
	done
	printf '%s\n' "${times[@]}" | sort -n | awk -v name="$name" -v n="$RUNS" '
		{ t[NR] = $1; s = s sprintf(" %.2f", $1) }
		END { printf "%-28s runs:%s s   median %.2f s\n", name, s, t[int((n + 1) / 2)] }'
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
time_report "rules, last 90 days" rules
time_report "rules, 3 years" rules --from "$(date -d '3 years ago' +%F)" --to "$(date -d tomorrow +%F)"
time_report "loyalty, 12 months" loyalty
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
