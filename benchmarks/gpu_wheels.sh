#!/usr/bin/env bash
# Wheels for a CUDA host that cannot reach a package index (Python 3.12, x86-64), for
# `WHEELS=DIR bash benchmarks/gpu_host.sh` there. They are the packages synthdata needs that a
# stock PyTorch GPU image lacks, as seen on an H200 host (2026-12-04): PyAV, Dask and
# distributed with their small dependencies, and pydantic. numpy < 2.5 is added as well,
# because numba-cuda 0.30 cannot compile under numpy 2.5. Its tests and type stubs are
# stripped so that the working tree and the wheels stay under a 64 MiB transfer.
#
#     bash benchmarks/gpu_wheels.sh .whl     # then: WHEELS=.whl bash benchmarks/gpu_host.sh (on the host)
set -euo pipefail
DIR=${1:-.whl}; mkdir -p "$DIR"; DIR=$(realpath "$DIR")      # absolute: used after a cd below
PLAT="--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64"
get() { python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
          $PLAT -d "$DIR" "$@"; }
get "av==$(python3 -c 'import av; print(av.__version__)')" \
    "dask==$(python3 -c 'import dask; print(dask.__version__)')" \
    "distributed==$(python3 -c 'import distributed; print(distributed.__version__)')" \
    tornado partd locket tblib zict \
    "pydantic==$(python3 -c 'import pydantic; print(pydantic.VERSION)')" \
    "pydantic-core==$(python3 -c 'import pydantic_core; print(pydantic_core.__version__)')" \
    annotated-types typing-inspection
tmp=$(mktemp -d); get -d "$tmp" "numpy<2.5"
whl=$(ls "$tmp"/numpy-*.whl); mkdir "$tmp/x"; (cd "$tmp/x" && python3 -m zipfile -e "$whl" .)
find "$tmp/x" -type d -name tests -prune -exec rm -rf {} +; find "$tmp/x" -name "*.pyi" -delete
(cd "$tmp/x" && rm -f "$DIR/$(basename "$whl")" && python3 -m zipfile -c "$DIR/$(basename "$whl")" ./*)
rm -rf "$tmp"
du -sh "$DIR"; ls "$DIR"
