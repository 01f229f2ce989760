#!/usr/bin/env bash
# Fuzzes every parser of untrusted input with cargo-fuzz (libFuzzer), SECONDS each (default 600),
# two targets at a time. Needs a nightly toolchain (`rustup toolchain install nightly`) and
# cargo-fuzz (`cargo install cargo-fuzz`). Seeds come from tests/fixtures and fuzz/seeds; crashes
# land in fuzz/artifacts/TARGET/ (reproduce with `cargo +nightly fuzz run -s none TARGET FILE`).
# A summary line per target is appended to target/fuzz-report.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"
targets=(sidecar ct2_model query aigc_label container bundle c2pa)
if [ -n "${FUZZ_TARGETS:-}" ]; then read -r -a targets <<<"$FUZZ_TARGETS"; fi
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
corpus=fuzz/corpus
mkdir -p "$corpus" target
for t in "${targets[@]}"; do mkdir -p "$corpus/$t"; done
# Seeds: small real inputs of each kind.
cp tests/fixtures/sample-sidecar.json "$corpus/sidecar/" 2>/dev/null || true
cp fuzz/seeds/query-* "$corpus/query/" 2>/dev/null || true
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ffmpeg -nostdin -v error -y -i tests/fixtures/jfk.wav -t 0.5 -ar 8000 "$tmp/a.wav"
for spec in "mp4:-c:a aac -b:a 16k" "flv:-c:a aac -b:a 16k" "ts:-c:a aac -b:a 16k" "mp3:-c:a libmp3lame -b:a 8k"; do
  ext="${spec%%:*}"; args="${spec#*:}"
  # shellcheck disable=SC2086
  ffmpeg -nostdin -v error -y -i "$tmp/a.wav" $args -metadata 'AIGC={"Label":"1"}' "$corpus/container/seed.$ext"
done
cp "$tmp/a.wav" "$corpus/container/seed.wav"
cp "$tmp/a.wav" "$corpus/aigc_label/seed.wav"
cp "$tmp/a.wav" "$corpus/c2pa/seed.wav"
cp "$corpus/container/seed.mp3" "$corpus/c2pa/seed.mp3"
cp fuzz/seeds/bundle-* "$corpus/bundle/" 2>/dev/null || true
cp fuzz/seeds/ct2-* "$corpus/ct2_model/" 2>/dev/null || true
(cd fuzz && cargo +nightly fuzz build -s none "${targets[@]/#/}" >/dev/null 2>&1 || cargo +nightly fuzz build -s none)
run_one() {
  local t="$1" log="target/fuzz-$1.log"
  if (cd fuzz && cargo +nightly fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=4096 -timeout=30) >"$log" 2>&1; then
    status=ok
  else
    status=CRASH
  fi
  local stats
  stats=$(grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$log" | tail -1 || true)
  if [ "$status" = CRASH ]; then
    stats="$(grep -m1 -E "panicked at|ERROR: libFuzzer" "$log" || true) $(grep -m1 -o "Test unit written to .*" "$log" || true)"
  fi
  echo "$t: $status, ${secs}s, $stats" >>target/fuzz-report.txt
}
echo "# $(date -u +%FT%TZ) ${secs}s per target: ${targets[*]}" >>target/fuzz-report.txt
i=0
for t in "${targets[@]}"; do
  run_one "$t" &
  i=$((i + 1))
  if (( i % 2 == 0 )); then wait; fi
done
wait
tail -n "$(( ${#targets[@]} + 1 ))" target/fuzz-report.txt
! tail -n "${#targets[@]}" target/fuzz-report.txt | grep -q CRASH
