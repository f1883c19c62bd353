#!/usr/bin/env bash
# Everything to check and measure on a CUDA host, in one go (about 6 minutes on an H200 + 16 cores):
#   0. gpu_smoke.py: versions, compile times, one scene on both devices; stops here if that fails
#   1. tests/test_render_gpu.py's device tests: CPU and CUDA draw the same scenes and shipped recipes
#   2. bench_gpu.py: render on the GPU vs one CPU thread, then end-to-end frames/s (1 and K GPU
#      workers, and all cores on the CPU)
#   3. bench_gpu.py --recipes: render alone, GPU vs one CPU thread, every shipped recipe and variant
#   4. bench_gpu.py --profile: where the GPU render's time goes (parking_lot_day and its variants)
#   5. bench_gpu.py --uploads: host tables sent queued through torch vs numba's synchronous copies
# Logs go to $OUT (default ./gpu-logs). With WHEELS=DIR, packages missing on the host are installed
# from wheels in DIR first (a host that cannot reach a package index; `bash benchmarks/gpu_wheels.sh DIR`
# fetches them here). GPU_WORKERS=8,16: the end-to-end GPU runs (bench_gpu.py --gpu-workers);
# PROFILE=NAMES: the cases profiled (default parking_lot_day and its variants); UPLOADS=NAMES: the
# cases of step 5 (default street_plaza, shake, ptz).
#
#     WHEELS=.whl bash benchmarks/gpu_host.sh      # or without WHEELS where the host has every package
export PYTHONUNBUFFERED=1
OUT=${OUT:-gpu-logs}; mkdir -p "$OUT"
T0=$(date +%s); left() { echo $(( $1 - ($(date +%s) - T0) )); }; at() { echo "t=$(( $(date +%s) - T0 )) s"; }
if [ -n "${WHEELS:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    "$WHEELS"/*.whl > "$OUT/setup.log" 2>&1 || { tail -5 "$OUT/setup.log"; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD:${PYTHONPATH:-}
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc
echo "== smoke: versions, compile times, one scene on both devices ($(at))"
timeout "$(left 160)" python3 benchmarks/gpu_smoke.py > "$OUT/smoke.log" 2>&1; rc=$?
cat "$OUT/smoke.log" | grep -v "^ *$" | tail -12
[ $rc -eq 0 ] || { echo "smoke failed ($(at)): nothing long started"; exit 1; }
echo "== CPU vs CUDA ($(at))"
timeout "$(left 250)" python3 -m pytest -s -p no:cacheprovider --tb=short tests/test_render_gpu.py \
  -k cuda_device > "$OUT/parity.log" 2>&1
grep -E "ids differ|passed|failed|skipped|Error" "$OUT/parity.log" | head -30
echo "== render and end to end ($(at))"
timeout "$(left 420)" python3 benchmarks/bench_gpu.py --gpu-workers "${GPU_WORKERS:-}" > "$OUT/bench.log" 2>&1
grep -v -i warn "$OUT/bench.log" | tail -12
echo "== every recipe ($(at))"
timeout "$(left 520)" python3 benchmarks/bench_gpu.py --recipes --frames 24 > "$OUT/recipes.log" 2>&1
grep -v -i warn "$OUT/recipes.log" | tail -24
echo "== profile ($(at))"
timeout "$(left 560)" python3 benchmarks/bench_gpu.py --profile --only "${PROFILE:-parking_lot_day}" > "$OUT/profile.log" 2>&1
grep -E "^==" "$OUT/profile.log"
echo "== uploads: queued vs numba's copies ($(at))"
timeout "$(left 595)" python3 benchmarks/bench_gpu.py --uploads --only "${UPLOADS:-street_plaza,shake,ptz}" \
  > "$OUT/uploads.log" 2>&1
grep -v -i warn "$OUT/uploads.log" | tail -4
echo "== done ($(at))"
