#!/usr/bin/env bash
# Digital-host evaluation (BENCHMARKS.md): generates a labelled corpus of digital-host and human
# sessions, ingests them with the real models, prints precision/recall of digital_host and
# undisclosed_digital_host. Needs the tiny.en and base models (scripts/test.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo bench --locked --bench digital_host
