#!/usr/bin/env bash
# Checks that the profiler's NVTX ranges reach a tool, without a GPU or Nsight: builds a logging
# NVTX injection library (nvtx_log_injection.c), runs the profiling demo with it, and checks that
# the ranges nest as phases > layers > ops and balance. Needs gcc, a CUDA toolkit's NVTX headers
# and its libnvtx3interop (or libnvToolsExt) on the library path, and a built bench jar:
#   ./mvnw -q -B -pl bench -am package -DskipTests
#   runtime/src/test/nvtx/check-nvtx.sh [/usr/local/cuda]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
cuda=${1:-${CUDA_HOME:-/usr/local/cuda}}
include=$(ls -d "$cuda"/targets/*/include 2>/dev/null | head -1)
include=${include:-$cuda/include}
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -shared -fPIC -O1 -I"$include" -o "$work/libnvtxlog.so" "$here/nvtx_log_injection.c" -lpthread
NVTX_INJECTION64_PATH="$work/libnvtxlog.so" NVTX_LOG="$work/nvtx.log" \
    "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dmgm.profile.bandwidth=10 \
    -Dmgm.profile.flops=100 -cp "$root/bench/target/benchmarks.jar" mgm.bench.ProfileDemo --backend reference \
    --hidden 128 --layers 2 --vocab 256 --prompt 8 --tokens 3 --clip-layers 1 --image 28 > "$work/report.txt"
python3 - "$work/nvtx.log" <<'PY'
import sys, collections
stacks = collections.defaultdict(list)
pushes = 0
seen = set()
for line in open(sys.argv[1]):
    tid, what, *name = line.rstrip("\n").split(" ", 2)
    if what == "push":
        pushes += 1
        stacks[tid].append(name[0])
        seen.add(" > ".join(stacks[tid]))
    else:
        assert stacks[tid], "pop without push on thread " + tid
        stacks[tid].pop()
assert all(not s for s in stacks.values()), "ranges left open: %s" % dict(stacks)
for want in ["decode > decoder 0 > matmul", "prefill > decoder 1 > attention", "image encode > clip 0 > attention",
             "image encode > conv2d", "load > copyRows"]:
    assert want in seen, "no range " + want
print("NVTX ok: %d ranges, balanced; e.g. %s" % (pushes, sorted(p for p in seen if p.count(">") == 2)[:3]))
PY
