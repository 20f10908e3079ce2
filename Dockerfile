# GPU + Lean 4 image for dco-prover: CUDA, torch, vLLM, LeanDojo, elan with a
# pinned Lean 4 toolchain, and Coq. It cannot be built on the development
# machines (no Docker engine there); see the README's "Lean 4 through LeanDojo"
# section for what a Lean run needs around it (token, cache, tracing).
#
#   docker build -t dco-prover .
#   docker run --gpus all -e GITHUB_ACCESS_TOKEN -v $PWD/data:/app/data dco-prover \
#       trace-lean --benchmark minif2f:/app/data/miniF2F-lean4
FROM nvidia/cuda:12.8.1-cudnn-devel-ubuntu22.04

# The supported miniF2F-lean4 commit requires Mathlib v4.20.0, whose toolchain
# is Lean v4.20.0, the version LeanDojo 4.20 was made for. elan installs any
# other toolchain a repository's lean-toolchain names on first use (network);
# EXTRA_TOOLCHAINS bakes more into the image (e.g. the v4.10 release candidate
# of LeanDojo Benchmark 4's mathlib4 commit).
ARG LEAN_TOOLCHAIN=leanprover/lean4:v4.20.0
ARG EXTRA_TOOLCHAINS=""
ARG MINIF2F_COMMIT=be1732497464bab50cffd486114c4b9ad437182f
ARG VLLM_VERSION=0.33.0
ARG LEAN_DOJO_VERSION=4.20.0

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/root/.elan/bin:$PATH

# wget: LeanDojo downloads traced repositories from its remote cache with it.
# No python3-pip: on Ubuntu 22.04 it is Python 3.10's pip, which fails under
# 3.11; the virtualenv below brings 3.11's own pip.
RUN apt-get update && apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv python3.11-dev \
        git wget curl ca-certificates build-essential coq \
    && rm -rf /var/lib/apt/lists/* \
    && python3.11 -m venv /opt/venv \
    && python -m pip install --upgrade pip

# elan (Lean's toolchain manager) with the pinned toolchain; LeanDojo needs it
# to trace repositories and to run `lake env lean`.
RUN curl -sSfL https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh \
        | sh -s -- -y --default-toolchain "$LEAN_TOOLCHAIN" \
    && for toolchain in $EXTRA_TOOLCHAINS; do elan toolchain install "$toolchain"; done \
    && lean --version

WORKDIR /app
COPY pyproject.toml README.md ./
COPY lean_env lean_env
COPY search search
COPY training training
COPY prover prover
COPY benchmarks benchmarks

# vLLM first, pinned: it pins the CUDA torch build it was compiled against
# (the CPU-only torch==2.13.0 pin of scripts/setup.sh is for CPU machines);
# then the package with its Lean and distributed extras.
RUN python -m pip install "vllm==${VLLM_VERSION}" "lean-dojo==${LEAN_DOJO_VERSION}" \
    && python -m pip install -e ".[lean,gpu,distributed]"

# LeanDojo caches traced repositories here: mount a volume to keep them, and
# trace once with `dco trace-lean` before any search (workers never trace).
ENV CACHE_DIR=/app/data/lean_dojo_cache \
    MINIF2F_COMMIT=${MINIF2F_COMMIT}
CMD ["prove", "--help"]
