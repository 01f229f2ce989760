#!/usr/bin/env bash
# Platform capacity benchmark (BENCHMARKS.md, issue 21): the same recordings transcribed by
# 1 worker with 1 thread, 1 worker with 2 threads and 2 workers with 1 thread each, on fresh PostgreSQL and
# SeaweedFS each time (scripts/platform-services.sh), one sealing node (`liveproof ingest
# --catalog --blobs FILES…`, which queues every file first, then seals each as it returns).
# Prints a Markdown table: wall time from the workers' start to the last session sealed, audio
# per wall hour, worker CPU time per audio hour, peak RSS per worker.
#
# Usage: bash scripts/bench-platform.sh [--configs 1x1,1x2,2x1] [--model base] [--lang zh] [RECORDING…]
#   default recordings: target/bench-ingest/{human10,zh10,switch,music}.wav
#   (made by scripts/bench-ingest.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
model=base
lang=zh
configs=1x1,1x2,2x1
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --lang) lang=$2; shift 2 ;;
    --configs) configs=$2; shift 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
if [ ${#files[@]} -eq 0 ]; then
  files=(target/bench-ingest/human10.wav target/bench-ingest/zh10.wav target/bench-ingest/switch.wav target/bench-ingest/music.wav)
fi
for f in "${files[@]}"; do
  [ -f "$f" ] || { echo "missing $f: run scripts/bench-ingest.sh first, or name recordings" >&2; exit 2; }
done
cargo build --release --locked >/dev/null 2>&1
LP=$PWD/target/release/liveproof
work=$(mktemp -d /tmp/lp-bench-platform.XXXXXX)
trap 'for d in "$work"/*/engines; do bash scripts/platform-services.sh stop "$d" || true; done' EXIT
audio_ms=0
for f in "${files[@]}"; do
  ms=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f" | awk '{printf "%d", $1*1000}')
  audio_ms=$((audio_ms + ms))
done
echo "# platform capacity: ${#files[@]} recordings, $((audio_ms / 1000)) s of audio, model $model, --lang $lang, $(nproc) cores"
echo
echo "| workers × threads | wall (s) | audio h per wall h | worker CPU s per audio h | peak RSS per worker (MB) | sessions |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for cfg in ${configs//,/ }; do
  n=${cfg%x*}; t=${cfg#*x}
  dir=$work/$cfg
  mkdir -p "$dir"
  bash scripts/platform-services.sh start "$dir/engines" >/dev/null
  # shellcheck disable=SC1091
  source "$dir/engines/env"
  export LIVEPROOF_CATALOG LIVEPROOF_BLOBS
  "$LP" --data "$dir/data" ingest --model "$model" --lang "$lang" --json "${files[@]}" >"$dir/ingest.json" 2>"$dir/ingest.err" &
  ingest=$!
  # Workers start once every file is queued, so all runs measure the same work.
  until [ "$("$LP" tasks --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["queued"])')" = "${#files[@]}" ]; do sleep 0.2; done
  start=$(date +%s.%N)
  pids=()
  for i in $(seq 1 "$n"); do
    /usr/bin/time -f '%e %U %S %M' -o "$dir/worker$i.time" "$LP" worker --drain --threads "$t" --name "w$i" >/dev/null 2>&1 &
    pids+=($!)
  done
  wait "$ingest"
  end=$(date +%s.%N)
  for p in "${pids[@]}"; do wait "$p"; done
  sessions=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["ingested"]))' "$dir/ingest.json")
  python3 - "$cfg" "$start" "$end" "$audio_ms" "$sessions" "$dir"/worker*.time <<'PY'
import sys
cfg, start, end, audio_ms, sessions = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
cpu, rss = 0.0, []
for f in sys.argv[6:]:
    e, u, s, m = open(f).read().split()[-4:]
    cpu += float(u) + float(s)
    rss.append(int(m) / 1024)
wall = end - start
audio_h = audio_ms / 3.6e6
n, t = cfg.split("x")
print(f"| {n} × {t} | {wall:.1f} | {audio_h / (wall / 3600):.1f} | {cpu / audio_h:.0f} | {' / '.join(f'{r:.0f}' for r in rss)} | {sessions} |")
PY
  bash scripts/platform-services.sh stop "$dir/engines"
done
