#!/usr/bin/env bash
# kairos segment on a generated operator: generates N subscribers over D days, ingests them into
# a fresh demo workspace, then runs the segmentation job R times and prints each run's seconds
# (total, scan, fit, write) and the median total.
#   bench/segment_bench.sh [SUBSCRIBERS=1000000] [DAYS=30] [RUNS=3] [WORKDIR=/tmp/kairos-segment-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
days=${2:-30}
runs=${3:-3}
dir=${4:-/tmp/kairos-segment-bench}
k=build/release/app/kairos
end=2026-01-31
if [[ ! -f "$dir/ws/.bench-$n-$days" ]]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  $k init "$dir/ws" --demo >/dev/null
  echo "generating $n subscribers x $days days"
  $k generate --out "$dir/gen" --subscribers "$n" --days "$days" --seed 3 --end "$end" --json
  echo "ingesting"
  $k ingest --workspace "$dir/ws" "$dir/gen/events.ndjson" --rejects "$dir/rejects.ndjson" --json | head -c 400
  echo
  rm -rf "$dir/gen"
  touch "$dir/ws/.bench-$n-$days"
fi
totals=()
for ((i = 1; i <= runs; i++)); do
  out=$($k segment --workspace "$dir/ws" --at "${end}T23:59:59Z" --json)
  line=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); s=r["seconds"]; print(r["subscribers"], s["total"], s["scan"], s["fit"], s["write"])' "$out")
  read -r subs total scan fit write <<<"$line"
  echo "run $i: $subs subscribers in $total s (scan $scan, fit $fit, write $write)"
  totals+=("$total")
done
printf '%s\n' "${totals[@]}" | sort -g | awk '{a[NR]=$1} END {print "median total:", a[int((NR+1)/2)], "s"}'
