# GPU + Lean 4 image for dco-prover: CUDA, torch, vLLM, LeanDojo, elan with a
# pinned Lean 4 toolchain, and Coq. It cannot be built on the development
# machines (no Docker engine there); see the README's "Docker" section.
#
#   docker build -t dco-prover .
#   docker run --gpus all -v $PWD/data:/app/data dco-prover prove --help
FROM nvidia/cuda:12.8.1-cudnn-devel-ubuntu22.04

ARG LEAN_TOOLCHAIN=leanprover/lean4:v4.9.0
ARG VLLM_VERSION=0.33.0
ARG LEAN_DOJO_VERSION=4.20.0

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PATH=/root/.elan/bin:$PATH

RUN apt-get update && apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv python3.11-dev python3-pip \
        git curl ca-certificates build-essential coq \
    && rm -rf /var/lib/apt/lists/* \
    && ln -sf /usr/bin/python3.11 /usr/local/bin/python

# elan (Lean's toolchain manager) with one pinned toolchain; LeanDojo needs it
# to trace and interact with Lean repositories.
RUN curl -sSfL https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh \
        | sh -s -- -y --default-toolchain "$LEAN_TOOLCHAIN" \
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
RUN python -m pip install --upgrade pip \
    && python -m pip install "vllm==${VLLM_VERSION}" "lean-dojo==${LEAN_DOJO_VERSION}" \
    && python -m pip install -e ".[lean,gpu,distributed]"

# LeanDojo caches traced repositories here; mount a volume to keep them.
ENV CACHE_DIR=/app/data/lean_dojo_cache
CMD ["prove", "--help"]
