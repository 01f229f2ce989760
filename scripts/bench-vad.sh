#!/usr/bin/env bash
# Issue 18: whisper.cpp's own Silero VAD against liveproof's voice detector, speed and coverage
# on the benchmark's human-speech renderings (BENCHMARKS.md).
# Usage: bash scripts/bench-vad.sh [--seeds 1,2,3,4]
# Needs: the project's deps (scripts/deps.sh), python3-venv, PyPI access (silero-vad's wheel:
# its TorchScript weights, converted here to whisper.cpp's format without torch).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked --example vad_compare
work=target/bench-vad
mkdir -p "$work"
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install -q numpy
silero="$work/ggml-silero-v5.1.2.bin"
if [ ! -f "$silero" ]; then
  "$venv/bin/pip" download -q --no-deps -d "$work/wheels" silero-vad==5.1.2
  python3 - "$work/wheels" "$work" <<'PY'
import sys, zipfile, glob
z = zipfile.ZipFile(glob.glob(sys.argv[1] + "/silero_vad-5.1.2-*.whl")[0])
open(sys.argv[2] + "/silero_vad.jit", "wb").write(z.read("silero_vad/data/silero_vad.jit"))
PY
  "$venv/bin/python" benches/silero_to_ggml.py "$work/silero_vad.jit" "$silero"
fi
corpus=../shared/corpus
[ -d "$corpus" ] || corpus=none
exec "$venv/bin/python" benches/vad_compare.py --bin target/release/examples/vad_compare \
  --silero "$silero" --corpus "$corpus" --work "$work" "$@"
