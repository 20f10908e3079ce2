#!/usr/bin/env bash
# Idempotent setup: Debian packages through apt when missing (Coq; its add-ons
# Coquelicot, CoqHammer with its ATPs and CSDP; Chromium for the viewer's
# browser tests), a virtualenv in .venv, torch==2.13.0 first (this machine's
# local CPU wheel; anything else pulls a multi-GB CUDA build), then the package
# with its extras.
# Re-running is cheap: apt runs only for missing packages, and the pip step is
# skipped while pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# Debian packages, each installed only when missing:
# - coq: the embedded proof assistant (8.16);
# - libcoq-coquelicot: real analysis, loaded by miniF2F-rocq problems;
# - libcoq-hammer, eprover, z3, cvc4: CoqHammer and its ATPs (--generator hammer);
# - coinor-csdp: the solver `psatz` calls (--generator symbolic-arith);
# - chromium, chromium-driver: the browser tests of `dco view`.
packages=(coq libcoq-coquelicot libcoq-hammer eprover z3 cvc4 coinor-csdp chromium chromium-driver)
missing=()
for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ] && ! command -v apt-get >/dev/null 2>&1; then
    log "no apt-get here: install ${missing[*]} by other means (coqtop and coqc 8.16 are required)"
elif [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} (apt-get)"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip -q --disable-pip-version-check)

if ! .venv/bin/python -c 'import torch' >/dev/null 2>&1; then
    log "installing torch==2.13.0 (CPU)"
    "${pip[@]}" install torch==2.13.0
fi

extras=${DCO_EXTRAS:-dev,distributed,lean}
stamp=.venv/.dco-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $extras"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing dco-prover[$extras]"
    # deepspeed ships as a source package whose build imports torch: build it
    # against the torch already in the venv, not an isolated (CUDA) one.
    "${pip[@]}" install setuptools wheel
    "${pip[@]}" install --no-build-isolation -e ".[$extras]"
    echo "$want" > "$stamp"
fi
.venv/bin/python -c 'import torch, transformers, lean_env, search, training, prover, benchmarks' \
    || { log "setup finished but the package does not import"; exit 1; }
