#!/usr/bin/env bash
# Runs the ns-3 manet-unicast sweep (PROTOCOLS.md §7): max speed 1, 5, 10, 20 m/s x seeds.
# One run at a time, under `nice -n 10`, each wrapped in /usr/bin/time for its peak RSS.
# Results: one JSON object per run appended to $OUT (default /tmp/spinmesh-ns3/results.jsonl),
# then the summary table (summarize.mjs) on stdout.
#
#   bench/ns3/build.sh && bench/ns3/run.sh            # speeds 1 5 10 20, seeds 1..5
#   SEEDS="1" bench/ns3/run.sh                         # one seed per speed
#   SPEEDS="20" SEEDS="6 7" bench/ns3/run.sh           # add runs to the same results file
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${NS3_BENCH_BIN:-/tmp/spinmesh-ns3/manet-unicast}"
out="${OUT:-/tmp/spinmesh-ns3/results.jsonl}"
speeds="${SPEEDS:-1 5 10 20}"
seeds="${SEEDS:-1 2 3 4 5}"
[ -x "$bin" ] || "$here/build.sh"
mkdir -p "$(dirname "$out")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for seed in $seeds; do
  for speed in $speeds; do
    load="$(cut -d' ' -f1 /proc/loadavg)"   # 1-min load average before the run (wall-time context)
    nice -n 10 /usr/bin/time -f '%M' -o "$tmp/rss" \
      "$bin" --seed="$seed" --maxSpeed="$speed" "$@" >"$tmp/json"
    # append the peak RSS as seen by /usr/bin/time (whole process, KB) and the load average
    sed "s/}\$/,\"timeMaxRssKB\":$(tail -1 "$tmp/rss"),\"load1\":$load}/" "$tmp/json" | tee -a "$out"
  done
done
node "$here/summarize.mjs" "$out"
