#!/usr/bin/env bash
# Checks the kernels' logic without a GPU: compiles every cuda-kernels/*.cu as C++ against emu.h (a fiber per
# CUDA thread, barriers for __syncthreads and warp shuffles) and compares each kernel with a plain f64
# reference in check.cpp. Shapes are small.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${1:-$here/../../native/target/emulate}"
mkdir -p "$work"
{
    for f in "$here"/../*.cu; do
        echo "// ---- $(basename "$f")"
        sed -e 's|#include "include/\(ls_[a-z_]*\.cuh\)"|#include "\1"|' \
            -e 's|extern __shared__ \(__align__(16) \)\{0,1\}float smem\[\];|float* smem = emu_dynamic_smem<float>();|' "$f"
    done
} > "$work/kernels_emu.inc"
g++ -std=c++20 -O1 -ffp-contract=off -pthread -I "$here" -I "$here/../include" -I "$work" -include "$here/emu.h" \
    -o "$work/check" "$here/check.cpp"
"$work/check"
# The asynchronous-copy kernels once more with warps out of step (emu.h, EMU_SKEW): warp 0 ahead, then behind, so a
# stage refilled while other warps still read it shows. (The sampling checks pass under both too, in ~4 min each.)
for skew in 1 2; do
    for subset in mladecode wgmma; do
        echo "EMU_SKEW=$skew LS_CHECK_ONLY=$subset:"
        EMU_SKEW=$skew LS_CHECK_ONLY=$subset "$work/check"
    done
done
