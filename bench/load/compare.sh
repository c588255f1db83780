#!/usr/bin/env bash
# Runs several configurations in interleaved rounds (so that whatever else the
# machine is doing hits each of them alike) and prints the medians.
#
#   bench/load/compare.sh OUTDIR [load flags...]
#
# CONFIGS lists the configurations, one per line:
#   LABEL DRIVER [TREUE_BIN [SERVER_ENV...] [-- LOAD FLAGS...]]
# with DRIVER mysql, sqlite or minimal; TREUE_BIN "-" for ./cmd/treue built now;
# the load flags after "--" are added to the common ones for this configuration.
# ROUNDS (default 3) is the number of runs of each. Example:
#
#   CONFIGS='minimal minimal
#   mysql mysql -
#   sqlite sqlite -' ROUNDS=3 bench/load/compare.sh /tmp/bench --duration 30s --concurrency 64 --drain 0
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/load/compare.sh OUTDIR [load flags...]}
shift
mkdir -p "$out"
ROUNDS=${ROUNDS:-3}
CONFIGS=${CONFIGS:-"minimal minimal
mysql mysql -
sqlite sqlite -"}

tools=$(mktemp -d /tmp/treue-compare.XXXXXX)
trap 'rm -rf "$tools"' EXIT
go build -o "$tools/treue" ./cmd/treue
go build -o "$tools/load" ./bench/load
go build -o "$tools/minimal" ./bench/load/minimal

for r in $(seq 1 "$ROUNDS"); do
	while read -r label driver bin rest; do
		[ -n "$label" ] || continue
		if [ -z "${bin:-}" ] || [ "$bin" = - ]; then bin=$tools/treue; fi
		env=${rest%%--*}
		extra=()
		if [[ "$rest" == *--* ]]; then read -r -a extra <<<"--${rest#*--}"; extra=("${extra[@]:1}"); fi
		echo "== round $r: $label ($(cut -d' ' -f1-3 /proc/loadavg))" >&2
		LABEL=$label DRIVER=$driver TREUE_BIN=$bin LOAD_BIN=$tools/load MIN_BIN=$tools/minimal SERVER_ENV=${env:-} \
			bench/load/run.sh "$out/$label-$r.json" "$@" "${extra[@]}" >"$out/$label-$r.out" 2>&1 || echo "   ($label round $r: checks failed, see $out/$label-$r.out)" >&2
		grep -E '^(throughput|latency)' "$out/$label-$r.out" | sed 's/^/   /' >&2 || true
	done <<<"$CONFIGS"
done
"$tools/load" --summarize "$out"/*.json
