#!/usr/bin/env bash
# kairos offers invoice-batch on a generated operator: generates N subscribers over D days,
# ingests them into a fresh demo workspace, then runs the batch R times (dry run: nothing recorded,
# so every run sees the same profiles) and R times recorded (each run adds impressions, so later
# runs see caps and cooldowns of the earlier ones), printing each run's seconds and the medians.
#   bench/invoice_batch_bench.sh [SUBSCRIBERS=1000000] [DAYS=7] [RUNS=3] [WORKDIR=/tmp/kairos-invoice-bench] [THREADS=8]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
days=${2:-7}
runs=${3:-3}
dir=${4:-/tmp/kairos-invoice-bench}
threads=${5:-8}
k=build/release/app/kairos
end=2026-01-31
at="${end}T10:00:00Z"
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
run() {  # mode (dry|recorded)
  local flags=()
  [[ $1 == dry ]] && flags=(--dry-run)
  local totals=()
  for ((i = 1; i <= runs; i++)); do
    rm -rf "$dir/out"
    out=$($k offers invoice-batch --workspace "$dir/ws" --out "$dir/out" --at "$at" \
          --base-url https://offers.example-operator.eu --threads "$threads" "${flags[@]}" --json)
    line=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["subscribers"], r["offers"], r["no_action"], r["errors"], r["seconds"], r["setup_seconds"])' "$out")
    read -r subs offers none errors secs setup <<<"$line"
    echo "$1 run $i: $subs subscribers, $offers offers (PNG + SVG), $none no action, $errors errors in $secs s (setup $setup s)"
    totals+=("$secs")
  done
  printf '%s\n' "${totals[@]}" | sort -g | awk -v m="$1" '{a[NR]=$1} END {print m, "median:", a[int((NR+1)/2)], "s"}'
}
run dry
run recorded
du -sh "$dir/out/qr" | awk '{print "QR files:", $1}'
