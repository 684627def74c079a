#!/usr/bin/env bash
# Compiles each kernel source (.cu) to PTX for every target architecture:
#   ptx.sh <out-dir> <src-dir> [include-dir]     writes <out-dir>/sm_XX/<name>.ptx
# Targets: $MGM_CUDA_ARCHS (default "80 90"). nvcc: $NVCC, else nvcc on PATH, else
# /usr/local/cuda/bin/nvcc. Without nvcc it says so and exits 0: the build goes on and the CUDA
# backend reports "kernels not built" at run time. A kernel that does not compile fails the build.
set -euo pipefail
out=$1
src=$2
inc=${3:-$2}
archs=${MGM_CUDA_ARCHS:-"80 90"}

nvcc=${NVCC:-}
if [ -z "$nvcc" ]; then
  for c in "$(command -v nvcc 2>/dev/null || true)" /usr/local/cuda/bin/nvcc /usr/local/bin/nvcc; do
    if [ -n "$c" ] && [ -x "$c" ]; then nvcc=$c; break; fi
  done
fi
if [ -z "$nvcc" ] || [ ! -x "$nvcc" ]; then
  echo "[kernels] nvcc not found (set NVCC or put nvcc on PATH): CUDA kernels NOT built; the CUDA backend will report 'kernels not built'"
  exit 0
fi
version=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')

shopt -s nullglob
sources=("$src"/*.cu)
headers=("$src"/*.cuh "$inc"/*.cuh)
newest_header=0
for h in "${headers[@]}"; do
  t=$(stat -c %Y "$h")
  [ "$t" -gt "$newest_header" ] && newest_header=$t
done

jobs=$(nproc 2>/dev/null || echo 2)
pids=()
logs=()
built=0
for a in $archs; do
  mkdir -p "$out/sm_$a"
  for cu in "${sources[@]}"; do
    name=$(basename "$cu" .cu)
    ptx="$out/sm_$a/$name.ptx"
    if [ -f "$ptx" ] && [ "$(stat -c %Y "$ptx")" -ge "$(stat -c %Y "$cu")" ] && [ "$(stat -c %Y "$ptx")" -ge "$newest_header" ]; then
      continue
    fi
    log=$(mktemp)
    rm -f "$ptx"
    ( "$nvcc" -ptx -std=c++17 -O3 -arch="compute_$a" -I"$inc" -o "$ptx.tmp" "$cu" >"$log" 2>&1 && mv "$ptx.tmp" "$ptx" ) &
    pids+=($!)
    logs+=("$log:$cu:sm_$a")
    built=$((built + 1))
    if [ "${#pids[@]}" -ge "$jobs" ]; then
      wait "${pids[0]}" || true
      pids=("${pids[@]:1}")
    fi
  done
done
wait || true

failed=0
for entry in "${logs[@]}"; do
  log=${entry%%:*}
  rest=${entry#*:}
  cu=${rest%:*}
  arch=${rest##*:}
  name=$(basename "$cu" .cu)
  if [ ! -f "$out/$arch/$name.ptx" ] || [ -f "$out/$arch/$name.ptx.tmp" ]; then
    echo "[kernels] nvcc failed on $cu for $arch:"
    cat "$log"
    failed=1
    rm -f "$out/$arch/$name.ptx" "$out/$arch/$name.ptx.tmp"
  elif [ -s "$log" ]; then
    echo "[kernels] nvcc warnings for $cu ($arch):"
    cat "$log"
  fi
  rm -f "$log"
done
if [ "$failed" -ne 0 ]; then
  exit 1
fi
total=$(du -sk "$out" | cut -f1)
echo "[kernels] PTX with nvcc $version for sm_${archs// /, sm_}: ${#sources[@]} sources, $built compiled now, ${total} KB in $out"
