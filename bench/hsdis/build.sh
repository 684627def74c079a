#!/usr/bin/env bash
# Builds the objdump-backed hsdis plugin into bench/hsdis/target/hsdis-amd64.so (needs gcc and
# binutils' objdump at run time). Then, for example:
#   LD_LIBRARY_PATH=bench/hsdis/target java -XX:+UnlockDiagnosticVMOptions \
#     -XX:CompileCommand=print,mgm.runtime.cpu.GemvKernels::rowsBf16 --add-modules jdk.incubator.vector \
#     --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar mgm.bench.KernelThroughput > asm.txt
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p target
gcc -O2 -Wall -Wextra -shared -fPIC -o target/hsdis-amd64.so hsdis-objdump.c
echo "built $(pwd)/target/hsdis-amd64.so"
