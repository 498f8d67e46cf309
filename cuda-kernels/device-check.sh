#!/usr/bin/env bash
# Runs every GPU-tagged test of the native module on this machine's GPU, from the repo root, using only what
# .carry/ holds (made by cuda-kernels/prepare-device-check.sh on a build machine): a jlinked Java 25, the jars
# (the native one carries the kernel fatbin), the test classes, the JUnit console launcher and the golden
# test data. Prints a table (kernel, shapes, error, tolerance, PASS/FAIL) and writes $OUT/device-check.json
# (every check, the JUnit counts) plus the console log. Then the benchmarks: the GPU suite of
# `latentserve bench --device cuda` (io.latentserve.cuda.bench.DeviceBench: ceilings, DeepSeek-V2-Lite made
# on the GPU, decode B x C, prefill) and its HuggingFace transformers peer (bench/hf_peer.py, same weights),
# merged by bench/report.py into $OUT/bench-table.md. Exits with JUnit's status. Budget: at most 540 s of parts,
# 110/150/50/70/70/90 s (the GPU tests took 29 s and the HF peer 32 s on the last run, session 2; tests and suites
# gained rows since; the suites write their JSON after every row, so a part cut short keeps what it measured);
# DEVICE_CHECK_BUDGET_S (of which MBARRIER_BUDGET_S, 30 s, for the tests tagged "mbarrier" in a process of their
# own: the mbarrier pipelines never ran on hardware), BENCH_BUDGET_S, GRAPHS_BUDGET_S (the suite again with CUDA
# graphs), ENGINE_BUDGET_S (server.bench.DeviceEngineBench: the engine at B x C), ENGINE_GRAPHS_BUDGET_S (the same
# with CUDA graphs and async scheduling, prefill's MoE on the wgmma kernels), PEER_BUDGET_S
# bound the parts, BENCH=0 skips the benchmarks. Before the tests: the count of HGMMA instructions of the wgmma
# MoE kernels in the fatbin's sm_90a SASS (cuobjdump), in the JSON report as "hgmma".
#
#   cuda-kernels/device-check.sh [JUnit console options, e.g. --select-class io.latentserve.cuda.backend.CudaMoeGpuTest]
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
carry="$root/.carry"
out="${OUT:-$root/target/device-check}"
budget_s="${DEVICE_CHECK_BUDGET_S:-110}"
bench_budget_s="${BENCH_BUDGET_S:-150}"
peer_budget_s="${PEER_BUDGET_S:-90}"
graphs_budget_s="${GRAPHS_BUDGET_S:-50}"
engine_budget_s="${ENGINE_BUDGET_S:-70}"
engine_graphs_budget_s="${ENGINE_GRAPHS_BUDGET_S:-70}"
mkdir -p "$out"
[ -f "$carry/jdk.txz" ] || { echo "no $carry/jdk.txz: run cuda-kernels/prepare-device-check.sh first" >&2; exit 2; }

work="$(mktemp -d /tmp/device-check.XXXXXX)"
tar xf "$carry/jdk.txz" -C "$work"
tar xf "$carry/testdata.txz" -C "$work"
java="$work/jdk/bin/java"
cat "$carry/MANIFEST" 2>/dev/null | head -n 2
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(nvidia-smi unavailable)"
"$java" -version 2>&1 | head -n 1

# SASS of the sm_90a code: whether the wgmma kernels compiled to HGMMA (the Hopper warpgroup MMA; HMMA or FFMA
# only would be the slower path). The fatbin comes out of the native jar (python3's zipfile: the jlinked runtime
# has no jar tool); cuobjdump dumps the sm_90a SASS; HGMMA instructions are counted per wgmma kernel into
# $out/hgmma.txt and device-check.json's "hgmma" (null without cuobjdump or fatbin).
hgmma_json=null
cuobjdump_bin="$(command -v cuobjdump || true)"
[ -z "$cuobjdump_bin" ] && [ -x /usr/local/cuda/bin/cuobjdump ] && cuobjdump_bin=/usr/local/cuda/bin/cuobjdump
native_jar="$(ls "$carry"/lib/*.jar 2>/dev/null | xargs -r grep -l 'latentserve_kernels.fatbin' 2>/dev/null | head -n 1)"
if [ -n "$cuobjdump_bin" ] && [ -n "$native_jar" ] && python3 - "$native_jar" "$work/kernels.fatbin" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    open(sys.argv[2], "wb").write(z.read("io/latentserve/cuda/latentserve_kernels.fatbin"))
PY
then
    "$cuobjdump_bin" -sass -arch sm_90a "$work/kernels.fatbin" > "$work/sass.txt" 2>&1
    awk '/Function :/ { fn = $NF } /HGMMA/ { n[fn]++ }
         END { for (k in n) printf "%s %d\n", k, n[k] }' "$work/sass.txt" | sort > "$out/hgmma.txt"
    hgmma_json="{$(for k in ls_moe_gate_up_wgmma ls_moe_down_wgmma; do
        n="$(awk -v k="$k" '$1 == k { print $2 }' "$out/hgmma.txt" | head -n 1)"
        printf '"%s":%d,' "$k" "${n:-0}"
    done | sed 's/,$//')}"
    echo "HGMMA in the sm_90a SASS: $hgmma_json (all kernels: $(awk '{ s += $2 } END { print s + 0 }' "$out/hgmma.txt"))"
    # the Hopper copy engines' instructions per kernel (UTMALDG: bulk tensor copy, UBLKCP: bulk copy), for the record
    awk '/Function :/ { fn = $NF } /UTMALDG|UBLKCP/ { n[fn]++ } END { for (k in n) printf "%s %d\n", k, n[k] }' \
        "$work/sass.txt" | sort > "$out/tma.txt"
    echo "TMA / bulk copies in the sm_90a SASS: $(tr '\n' ' ' < "$out/tma.txt")"
else
    echo "HGMMA check skipped: $([ -z "$cuobjdump_bin" ] && echo "no cuobjdump" || echo "no fatbin in the native jar")"
fi

results="$out/results.jsonl"
: > "$results"
cp "$carry/ptxas-summary.txt" "$out/" 2>/dev/null || true
classpath="$(ls "$carry"/lib/*.jar | paste -sd:)"
selection=("--select-package" "io.latentserve.cuda")
[ $# -gt 0 ] && selection=("$@")

echo
echo "| kernel                       | shapes                                               | metric     |      error | tolerance | result |"
echo "|------------------------------|------------------------------------------------------|------------|------------|-----------|--------|"
# The JUnit console launcher over the selection with these tag options, within a budget, into a log.
run_junit() {
    local budget="$1" log="$2"
    shift 2
    timeout --signal=TERM --kill-after=20 "$budget" \
        "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -Xmx32g -XX:+UseParallelGC \
        -Dlatentserve.testdata="$work" -Dlatentserve.report="$results" \
        -jar "$carry/junit-platform-console-standalone.jar" execute \
        --class-path "$classpath" "${selection[@]}" "$@" \
        --disable-banner --details=summary --details-theme=ascii \
        > "$log" 2>&1
}
# JUnit's counts of one log as JSON
counts_json() {
    grep -E '(tests|containers) (found|successful|failed|skipped|aborted)' "$1" | sed 's/^[^0-9]*//' > "$work/counts.txt"
    count() { awk -v k="$1" '$0 ~ k {print $1}' "$work/counts.txt" | head -n 1; }
    printf '{"found":%s,"successful":%s,"failed":%s,"skipped":%s,"aborted":%s,"containersFailed":%s}' \
        "$(count 'tests found')" "$(count 'tests successful')" "$(count 'tests failed')" \
        "$(count 'tests skipped')" "$(count 'tests aborted')" "$(count 'containers failed')" \
        | sed 's/:,/:null,/g; s/:}/:null}/g'
}

# Two runs: first every GPU test but those of the mbarrier pipelines (never run on hardware before: a deadlock
# there traps after 4 s and leaves its process's context unusable), then those alone, in a process of their own.
mbarrier_budget_s="${MBARRIER_BUDGET_S:-30}"
start=$(date +%s)
run_junit $(( budget_s - mbarrier_budget_s )) "$out/console.log" --include-tag gpu --exclude-tag mbarrier
status=$?
[ $status -eq 124 ] && echo "DEVICE CHECK (main run) TIMED OUT after $(( budget_s - mbarrier_budget_s ))s"
run_junit "$mbarrier_budget_s" "$out/console-mbarrier.log" --include-tag mbarrier
mbarrier_status=$?
[ $mbarrier_status -eq 124 ] && echo "DEVICE CHECK (mbarrier run) TIMED OUT after ${mbarrier_budget_s}s"
[ $status -eq 0 ] && status=$mbarrier_status
elapsed=$(( $(date +%s) - start ))
grep -hE '^\| ' "$out/console.log" "$out/console-mbarrier.log"
echo
# JUnit's summary and any failure, from the console logs
for log in "$out/console.log" "$out/console-mbarrier.log"; do
    sed -n '/Failures (/,/^$/p;/tests successful/,/tests failed/p' "$log" | head -n 80
done

passed=$(grep -c '"pass":true' "$results")
failed=$(grep -c '"pass":false' "$results")
{
    printf '{"status":%d,"timedOut":%s,"elapsedSeconds":%d,' "$status" "$([ $status -eq 124 ] && echo true || echo false)" "$elapsed"
    printf '"checksPassed":%d,"checksFailed":%d,' "$passed" "$failed"
    printf '"tests":%s,"mbarrierTests":%s,' "$(counts_json "$out/console.log")" "$(counts_json "$out/console-mbarrier.log")"
    printf '"hgmma":%s,' "$hgmma_json"
    printf '"gpu":"%s",' "$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
    printf '"results":['
    paste -sd, "$results"
    printf ']}\n'
} > "$out/device-check.json"
echo "checks: $passed passed, $failed failed; JUnit exit $status; ${elapsed}s; report $out/device-check.json"

if [ "${BENCH:-1}" != "0" ]; then
    echo
    echo "== GPU suite (latentserve bench --device cuda), budget ${bench_budget_s}s"
    timeout --signal=TERM --kill-after=20 "$bench_budget_s" \
        "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g -XX:+UseParallelGC \
        -cp "$classpath" io.latentserve.cuda.bench.DeviceBench --json "$out/bench.json" ${BENCH_ARGS:-} \
        2>&1 | grep -v 'incubator modules' | tee "$out/bench.log"
    echo
    echo "== GPU suite again with CUDA graphs (decode at small batches), budget ${graphs_budget_s}s"
    timeout --signal=TERM --kill-after=20 "$graphs_budget_s" \
        "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g -XX:+UseParallelGC \
        -cp "$classpath" io.latentserve.cuda.bench.DeviceBench --graphs true --kernel-benches false \
        --batches 1,16,64 --contexts 1024,4096 --prefill-tokens 0 --steps 10 --json "$out/bench-graphs.json" \
        2>&1 | grep -v 'incubator modules' | tee "$out/bench-graphs.log"
    echo
    echo "== engine level (scheduler, host sampling), budget ${engine_budget_s}s"
    timeout --signal=TERM --kill-after=20 "$engine_budget_s" \
        "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g -XX:+UseParallelGC \
        -cp "$classpath" io.latentserve.server.bench.DeviceEngineBench \
        --tokenizer "$work/tiny-deepseek-v2-lite/tokenizer.json" --batches 1,16,64 --contexts 1024 \
        --new-tokens 32 --json "$out/bench-engine.json" 2>&1 | grep -v 'incubator modules' | tee "$out/bench-engine.log"
    echo
    # prefill there runs its MoE on the wgmma kernels: its "engine prefill (wgmma MoE)" rows beside the plain
    # part's (grouped cuBLAS) compare the two at engine level (prefill passes are not replayed as graphs); its
    # requests carry repetition penalty 1.1, as chat clients' do: their logit edits run on the device too
    echo "== engine level with CUDA graphs, async scheduling, repetition penalty 1.1 (prefill: wgmma MoE), budget ${engine_graphs_budget_s}s"
    timeout --signal=TERM --kill-after=20 "$engine_graphs_budget_s" \
        "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g -XX:+UseParallelGC \
        -Dlatentserve.cuda.moeWgmma=true -cp "$classpath" io.latentserve.server.bench.DeviceEngineBench \
        --tokenizer "$work/tiny-deepseek-v2-lite/tokenizer.json" --batches 1,16,64 --contexts 1024 \
        --new-tokens 32 --graphs true --async-scheduling on --other-precision-prefill off --repetition-penalty 1.1 \
        --json "$out/bench-engine-graphs-async.json" \
        2>&1 | grep -v 'incubator modules' | tee "$out/bench-engine-graphs-async.log"
    echo
    echo "== HuggingFace transformers peer, budget ${peer_budget_s}s"
    timeout --signal=TERM --kill-after=20 "$peer_budget_s" \
        python3 "$root/cuda-kernels/bench/hf_peer.py" --json "$out/hf-peer.json" \
        --budget-seconds $(( peer_budget_s - 50 )) ${PEER_ARGS:-} 2>&1 | grep -v Warning | tail -n 30 | tee "$out/hf-peer.log"
    echo
    python3 "$root/cuda-kernels/bench/report.py" "$out/hf-peer.json" "$out/bench.json" "$out/bench-graphs.json" \
        "$out/bench-engine.json" "$out/bench-engine-graphs-async.json" \
        | tee "$out/bench-table.md"
fi
rm -rf "$work"
exit $status
