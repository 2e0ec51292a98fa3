#!/usr/bin/env bash
# Run every benchmark in bench/, one after another, from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
for benchmark in bench/*.py; do
    echo "== $benchmark"
    python "$benchmark"
done
