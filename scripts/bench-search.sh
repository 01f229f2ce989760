#!/usr/bin/env bash
# Search benchmark (BENCHMARKS.md): liveproof's tantivy index vs SQLite FTS5 (trigram) on the
# same 1,000,000 generated segments and 50 queries, in one run. Prints a Markdown table.
# Usage: bash scripts/bench-search.sh [SEGMENTS] [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked --bench search -- --segments "${1:-1000000}" --reps "${2:-5}"
