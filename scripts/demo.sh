#!/usr/bin/env bash
# The README's main command: set up (idempotent) and run the main job on the
# embedded default (Coq). Extra arguments go to `dco demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/dco demo "$@"
