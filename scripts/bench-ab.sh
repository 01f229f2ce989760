#!/usr/bin/env bash
# Two liveproof builds on one recording, alternating run by run (so the machine's drift falls on
# both alike): wall seconds and the ingest's own timings for each run, then each build's mean.
# Text must not differ between builds that claim the same text: each run's transcript_root is
# printed beside its time.
# Usage: scripts/bench-ab.sh RECORDING ROUNDS BUILD_A BUILD_B [ingest flags...]
#   e.g. scripts/bench-ab.sh music-s1.wav 4 /tmp/liveproof-before target/release/liveproof --lang zh
# Environment: LIVEPROOF_MODELS (default: models/), LIVEPROOF_THREADS (default: 2).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 4 ]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
rec=$1 rounds=$2 a=$3 b=$4
shift 4
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--lang zh)
export LIVEPROOF_MODELS=${LIVEPROOF_MODELS:-$PWD/models} LIVEPROOF_THREADS=${LIVEPROOF_THREADS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for round in $(seq "$rounds"); do
  for build in "$a" "$b"; do
    rm -rf "$work/data"
    start=$(date +%s.%N)
    "$build" --data "$work/data" --json ingest "$rec" --model base --beam 1 "${flags[@]}" >"$work/out.json"
    end=$(date +%s.%N)
    python3 - "$build" "$start" "$end" "$work" <<'PY'
import json, sys, glob
build, start, end, work = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
t = json.load(open(f"{work}/out.json"))["timings"]
root = json.load(open(glob.glob(f"{work}/data/sessions/*/manifest.json")[0]))["transcript_root"]
keys = ["probe_ms", "loop_check_ms", "transcribe_ms", "worker_busy_ms", "encoder_passes"]
print(f"{build}\t{end - start:.2f}\t" + " ".join(f"{k}={t.get(k)}" for k in keys) + f"\troot={root[:12]}")
PY
  done
done | tee "$work/runs.tsv"
awk -F'\t' '{s[$1]+=$2; n[$1]++} END {for (k in s) printf "mean %s %.2f s over %d runs\n", k, s[k]/n[k], n[k]}' "$work/runs.tsv"
