#!/usr/bin/env bash
# HTTP load benchmark (BENCHMARKS.md): wrk against the search and session endpoints of a real
# server on loopback, bounded in time. Archives the bundled samples into a temporary data
# directory first. Usage: bash scripts/bench-server.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked >/dev/null
LP=$PWD/target/release/liveproof
SECS=${1:-10}
D=$(mktemp -d); trap 'kill $SRV 2>/dev/null; rm -rf "$D"' EXIT
$LP ingest tests/fixtures/jfk.wav --model tiny.en --data "$D" >/dev/null
$LP ingest tests/fixtures/aishell_BAC009S0724W0121.wav --lang zh --data "$D" >/dev/null
S=$($LP sessions --json --data "$D" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"][0]["session"])')
T=$($LP token create --role auditor --json --data "$D" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$LP serve --addr 127.0.0.1:$PORT --rate-limit 100000000 --data "$D" 2>/dev/null & SRV=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/api/health >/dev/null && break; sleep 0.1; done
for path in "/api/search?q=americans" "/api/search?q=%E5%8D%8F%E4%BC%9A" "/api/sessions/$S"; do
  echo "== GET $path ($SECS s, 2 threads, 16 connections)"
  wrk -t2 -c16 -d${SECS}s --latency -H "Authorization: Bearer $T" "http://127.0.0.1:$PORT$path" | grep -E "Requests/sec|99%|Non-2xx|Socket errors|requests in"
done
