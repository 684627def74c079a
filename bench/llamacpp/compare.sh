#!/usr/bin/env bash
# llama.cpp next to our decoder benchmark on the same machine, in alternating runs.
#
#   bash bench/llamacpp/compare.sh [--rounds N] [--dtypes Q4_0,Q8_0,F16,BF16] [--work DIR] [-- DecoderReport flags]
#
# 1. Fetches llama.cpp's Debian build (package llama.cpp-tools from Debian unstable, with the
#    libraries it needs) through apt with a private state directory: nothing is installed on the
#    system; the binaries run under the fetched glibc's own loader.
# 2. Writes a random TinyLlama-shaped F16 GGUF (tinyllama_gguf.py, NumPy) and quantises it with
#    llama-quantize (Q8_0; Q4_0, whose lm_head llama.cpp stores as Q6_K; BF16).
# 3. Per round and dtype: llama-bench (2 threads: pp512, and tg128 from an empty context and after
#    512 tokens), then mgm.bench.DecoderReport (prefill 512 then decode 128, i.e. tg128 after 512
#    tokens) and DecoderReport --prompt 1 (decode from an empty context). Memory speed on these VMs
#    drifts from minute to minute, so only runs next to each other compare.
#
# Needs apt-get, python3 with NumPy, JDK 25 and a built bench module (./mvnw install -DskipTests).
# The work directory (default /tmp/mgm-llamacpp) holds ~5 GB of models.
set -euo pipefail

ROUNDS=3
DTYPES=Q4_0,Q8_0,F16,BF16
WORK=/tmp/mgm-llamacpp
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --dtypes) DTYPES=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
OUR_FLAGS=("$@")

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAR=$REPO/bench/target/benchmarks.jar
[[ -f $JAR ]] || { echo "compare.sh: $JAR missing: run ./mvnw -B install -DskipTests first" >&2; exit 1; }
python3 -c 'import numpy' 2>/dev/null || { echo "compare.sh: python3 with NumPy needed (apt-get install python3-numpy)" >&2; exit 1; }

ROOT=$WORK/root
LIB=$ROOT/usr/lib/x86_64-linux-gnu
fetch_llama_cpp() {
  [[ -x $ROOT/usr/bin/llama-bench ]] && return
  echo "fetching llama.cpp from Debian unstable into $ROOT" >&2
  local apt=$WORK/apt
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$WORK/debs"
  echo "deb http://deb.debian.org/debian sid main" > "$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=-"
              -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Dir::State::status=/dev/null"
              -o "APT::Sandbox::User=root")
  apt-get "${opts[@]}" -qq update
  # llama-bench and llama-quantize, their libraries, and the newer C / C++ runtime they were built against
  (cd "$WORK/debs" && apt-get "${opts[@]}" -qq download llama.cpp-tools libllama0 libggml0 \
      libc6 libgcc-s1 libgomp1 libstdc++6 libssl3t64 libzstd1 zlib1g)
  for deb in "$WORK"/debs/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
}

# ggml looks for its CPU backends in a fixed system directory; name the variant for this CPU instead
cpu_backend() {
  local flags; flags=$(grep -m1 '^flags' /proc/cpuinfo)
  local variant=x64
  if [[ $flags == *avx512_bf16* && $flags == *avx512_vnni* ]]; then variant=zen4
  elif [[ $flags == *avx512f* ]]; then variant=skylakex
  elif [[ $flags == *avx2* ]]; then variant=haswell
  fi
  echo "$LIB/ggml/backends0/libggml-cpu-$variant.so"
}

llama() {  # llama() TOOL ARGS...: run a fetched llama.cpp tool
  local tool=$1; shift
  GGML_BACKEND_PATH=$(cpu_backend) "$LIB/ld-linux-x86-64.so.2" --library-path "$LIB:$LIB/llama" \
      "$ROOT/usr/bin/$tool" "$@"
}

make_models() {
  mkdir -p "$WORK/models"
  local f16=$WORK/models/f16.gguf
  [[ -f $f16 ]] || python3 "$HERE/tinyllama_gguf.py" "$f16"
  local t
  for t in Q8_0 Q4_0 BF16; do
    local out=$WORK/models/${t,,}.gguf
    [[ -f $out ]] || llama llama-quantize "$f16" "$out" "$t" > "$WORK/models/${t,,}.log" 2>&1
  done
}

fetch_llama_cpp
make_models
LOG=$WORK/compare.stderr.log  # both tools' diagnostics; a failed run stops the script (set -e), the reason is here
: > "$LOG"
trap '[[ $? -eq 0 ]] || echo "compare.sh: a run failed; see $LOG" >&2' EXIT
echo "llama.cpp CPU backend: $(basename "$(cpu_backend)"); host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"

llama_bench() {  # llama_bench DTYPE: one line per test
  llama llama-bench -m "$WORK/models/${1,,}.gguf" -t 2 -p 512 -n 128 -d 0,512 -r 2 -o csv 2>>"$LOG" | python3 -c '
import csv, sys
for r in csv.DictReader(sys.stdin):
    test = "pp%s" % r["n_prompt"] if r["n_gen"] == "0" else "tg%s" % r["n_gen"]
    print("  llama.cpp %-5s %-6s after %4s tokens: %7.2f tok/s" % (sys.argv[1], test, r["n_depth"], float(r["avg_ts"])))
' "$1"
}

ours() {  # ours DTYPE PROMPT: DecoderReport's repetition line
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$JAR" \
      mgm.bench.DecoderReport --dtypes "$1" --reps 1 --prompt "$2" "${OUR_FLAGS[@]}" 2>>"$LOG" \
      | sed -n "s/^  rep 0: /  mgm-java  $1 prompt $2: /p"
}

for round in $(seq "$ROUNDS"); do
  echo "round $round"
  for d in ${DTYPES//,/ }; do
    llama_bench "$d"
    ours "$d" 512
    ours "$d" 1
  done
done
