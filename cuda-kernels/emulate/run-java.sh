#!/usr/bin/env bash
# Runs the GPU-tagged Java tests of the native module on the CPU: builds a fake libcuda.so (the kernels under
# emu.h) and a fake libcublas.so (plain GEMMs), then points the CUDA backend at them. Checks the whole Java
# side of the CUDA backend (parameter structs, launches, memory, cuBLAS calls, the model on top) without a
# GPU (the model module is built from this tree too, -am: native tests compile against its current API);
# slow, so pick tests:  cuda-kernels/emulate/run-java.sh 'CudaAttentionGpuTest#gqaShapes'
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$root/native/target/emulate"
mkdir -p "$work"
{
    for f in "$here"/../*.cu; do
        sed -e 's|#include "include/\(ls_[a-z_]*\.cuh\)"|#include "\1"|' \
            -e 's|extern __shared__ \(__align__(16) \)\{0,1\}float smem\[\];|float* smem = emu_dynamic_smem<float>();|' "$f"
    done
} > "$work/kernels_emu.inc"
g++ -std=c++20 -O2 -ffp-contract=off -fPIC -shared -I "$here" -I "$here/../include" -I "$work" -o "$work/libcuda.so" "$here/fake_cuda.cpp"
g++ -std=c++20 -O2 -fPIC -shared -fopenmp -o "$work/libcublas.so" "$here/fake_cublas.cpp"
cd "$root"
LATENTSERVE_LIBCUDA="$work/libcuda.so" LATENTSERVE_LIBCUBLAS="$work/libcublas.so" \
mvn -B -o -q test -pl native -am -Dtest="${1:-Cuda*GpuTest}" -Dsurefire.failIfNoSpecifiedTests=false \
    -Dlatentserve.excludedGroups=none \
    -Dlatentserve.jvmArgs="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dlatentserve.report=$work/report.jsonl"
