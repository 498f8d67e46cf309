package io.latentserve.cuda.bench;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.backend.CudaBackend;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MatmulPrecision;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.model.graph.Weights;
import io.latentserve.model.perf.KnownShapes;
import io.latentserve.model.perf.ProfilingBackend;
import io.latentserve.model.perf.RooflineBound;
import io.latentserve.model.random.HashedTensorStore;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * `latentserve bench --device cuda`: DeepSeek-V2-Lite with random weights made on the GPU (exact config,
 * {@link HashedTensorStore}: the HuggingFace peer, cuda-kernels/bench/hf_peer.py, makes the same values),
 * timed against the bound of {@link RooflineBound} with this GPU's ceilings measured first.
 *
 * <p>Decode: B sequences with C tokens already cached each (the latent cache is made directly, zeroed, in the
 * --kv-cache-dtype chosen (bf16 by default: the cache the bound counts), rather than prefilled: a decode step's
 * cost depends on the cache's size, not its values), then timed
 * model steps of one token per sequence: the full forward pass the server runs, logits copied to the host
 * included. Prefill: one prompt of P tokens in one forward pass. The kernel-level rows come first
 * ({@link KernelBenches}); the settings are {@link DeviceBenchOptions}; the rows go to a {@link BenchReport}.
 */
public final class DeviceBench {
    private static final int BLOCK = 64;
    private static final int MODEL_SEED = 42;
    /** The prompt both LatentServe and the HuggingFace peer run for the end-to-end logits check. */
    static final int[] REFERENCE_PROMPT = {100000, 17, 4, 1234, 56, 789, 10, 2024, 3, 99, 512, 7, 64, 8, 1000, 31};

    private final DeviceBenchOptions options;
    private final PrintStream out;
    private final BenchReport report;

    public DeviceBench(DeviceBenchOptions options, PrintStream out) {
        this.options = options;
        this.out = out;
        this.report = new BenchReport(options.json(), options.layers(), options.kvCacheDtype(), out);
    }

    public static void main(String[] argv) {
        new DeviceBench(DeviceBenchOptions.parse(argv), System.out).run();
    }

    public List<BenchRow> run() {
        boolean tiny = options.shapes().equals("tiny");
        ModelConfig config = tiny ? KnownShapes.tinyDeepseekV2(options.layers())
                : KnownShapes.deepseekV2Lite(options.layers());
        RooflineBound bound = new RooflineBound(config);
        int maxBlocks = 0;
        for (int b : options.batches()) {
            for (int c : options.contexts()) {
                maxBlocks = Math.max(maxBlocks, b * blocksFor(c + options.steps() + 2));
            }
        }
        maxBlocks = Math.max(maxBlocks, blocksFor(options.prefillTokens() + 1));
        // + 4 GiB: alignment slack and the kernel benchmarks' own weights (one MoE layer's experts, 1.1 GB, timed on
        // every path; the dense products' 0.9 GB)
        long weightBytes = config.parameterCount() * 2 + (4L << 30);
        KvCacheDtype dtype = options.kvCacheDtype();
        long kvBytes = (long) maxBlocks * BLOCK * config.kvCacheWidth() * dtype.bytesPerValue()
                * config.numHiddenLayers() + (1L << 28);
        long activationBytes = (long) options.activationGiB() << 30;
        out.printf(Locale.ROOT, "device bench: %s shapes, %d layers, %.2f B parameters; arenas: weights "
                + "%.1f GB, KV cache %.1f GB (%s, %d blocks of %d), activations %.1f GB%n",
                tiny ? "tiny DeepSeek-V2 (smoke run)" : "DeepSeek-V2-Lite", config.numHiddenLayers(),
                config.parameterCount() / 1e9, weightBytes / 1e9, kvBytes / 1e9, dtype, maxBlocks, BLOCK,
                activationBytes / 1e9);
        CudaContext ctx = CudaContext.open(0, weightBytes, kvBytes, activationBytes);
        report.gpu(ctx.device().toString());
        try (CudaBackend backend = CudaBackend.create(ctx, options.graphs(), options.matmulPrecision())) {
            out.println("GPU: " + ctx.device() + "; matmul precision " + backend.matmulPrecision()
                    + " (decode; prefill at both)");
            DeviceCeilings ceilings = tiny ? DeviceCeilings.measure(ctx, 1 << 20, 128) : DeviceCeilings.measure(ctx);
            report.row(new BenchRow("ceiling: device copy", "1 GiB DtoD", ceilings.copyBytesPerSecond() / 1e9,
                    Double.NaN, "GB/s", "read + write per second"));
            report.row(new BenchRow("ceiling: bf16 GEMM (cuBLAS)", "8192^3", ceilings.bf16FlopsPerSecond() / 1e12,
                    Double.NaN, "TFLOP/s", "f32 accumulate"));
            long start = System.nanoTime();
            // every op goes through the profiler, which only times while recording (one extra step per shape)
            ProfilingBackend profiler = new ProfilingBackend(backend, ctx::synchronize);
            // the model closes its store
            try (DeepseekV2Model model = new DeepseekV2Model(config,
                    new Weights(new HashedTensorStore(config, MODEL_SEED), profiler))) {
                ctx.synchronize();
                out.printf(Locale.ROOT, "weights made on the GPU in %.1f s; %s%n", (System.nanoTime() - start) / 1e9,
                        backend.memoryReport());
                try (KvCache cache = model.newKvCache(maxBlocks, BLOCK, dtype)) {
                    for (int c : options.contexts()) {
                        for (int b : options.batches()) {
                            report.guarded("decode B " + b + ", context " + c, () -> {
                                decode(model, cache, bound, ceilings, b, c);
                                profile(backend, profiler, "decode B " + b + ", context " + c,
                                        () -> decodeSteps(model, cache, b, c, 1));
                            });
                        }
                    }
                    if (options.json() != null && !tiny && !options.graphs()) {
                        report.guarded("reference logits", () -> referenceLogits(model));
                    }
                    if (options.prefillTokens() > 0) {
                        prefillAtEachPrecision(backend, profiler, model, cache, bound, ceilings);
                    }
                }
            }
            // after the model's rows, which take the default paths: the kernel rows include paths that have never
            // run on a GPU (mbarrier pipelines, whose watchdog turns a deadlock into a failed launch, and a failed
            // launch leaves the context unusable for every later row)
            if (!tiny && options.kernelBenches()) {
                new KernelBenches(report, out).run(ctx, backend, ceilings);
            }
        }
        return report.finish();
    }

    private void decode(DeepseekV2Model model, KvCache cache, RooflineBound bound, DeviceCeilings ceilings,
                        int batch, int context) {
        decodeSteps(model, cache, batch, context, 1);     // warm-up: first launches, caches
        long start = System.nanoTime();
        decodeSteps(model, cache, batch, context, options.steps());
        double stepSeconds = (System.nanoTime() - start) / 1e9 / options.steps();
        int meanContext = context + 1 + options.steps() / 2;
        double boundSeconds = bound.decodeStepSeconds(batch, meanContext, 2, 2, ceilings.copyBytesPerSecond());
        KvCacheDtype dtype = options.kvCacheDtype();
        double ownBytes = bound.decodeStepBytes(batch, meanContext, 2, dtype.bytesPerValue());
        String shape = "B " + batch + ", context " + context;
        String name = options.graphs() ? "decode step (forward, CUDA graphs)" : "decode step (model forward)";
        report.row(new BenchRow(name, shape, batch / stepSeconds, batch / boundSeconds, "tok/s",
                String.format(Locale.ROOT,
                        "%.2f ms/step vs %.2f ms bound (bf16 cache); %s cache here: %.0f GB/s = %.3f of copy",
                        stepSeconds * 1e3, boundSeconds * 1e3, dtype, ownBytes / stepSeconds / 1e9,
                        ownBytes / stepSeconds / ceilings.copyBytesPerSecond())));
    }

    /** steps decode steps of batch sequences of context cached tokens (positions context, context + 1, ...). */
    private void decodeSteps(DeepseekV2Model model, KvCache cache, int batch, int context, int steps) {
        int perSeq = blocksFor(context + options.steps() + 2);
        int[][] tables = new int[batch][perSeq];
        for (int s = 0; s < batch; s++) {
            for (int i = 0; i < perSeq; i++) {
                tables[s][i] = s * perSeq + i;
            }
        }
        SplittableRandom rnd = new SplittableRandom(batch * 31L + context + steps);
        int vocab = model.config().vocabSize();
        int[] positions = new int[batch];
        Arrays.fill(positions, context);
        for (int i = 0; i < steps; i++) {
            model.forward(step(rnd, vocab, batch, positions, tables), cache);
            for (int s = 0; s < batch; s++) {
                positions[s]++;
            }
        }
    }

    /**
     * Two more runs of work: every operation timed on its own (synchronised: where the time goes, host work
     * included), then every kernel by events around it (the GPU's own time per kernel; beside the measured step,
     * what the GPU spends between kernels).
     */
    private void profile(CudaBackend backend, ProfilingBackend profiler, String what, Runnable work) {
        if (options.graphs()) {
            return;   // recorded passes issue their work at the end: per-operation times would mean nothing
        }
        profiler.recording(true);
        try {
            work.run();
        } finally {
            profiler.recording(false);
        }
        List<String> lines = profiler.report();
        report.profile(what, profiler.millis());
        out.println("where the time goes, " + what + " (each op synchronised: " + String.format(Locale.ROOT, "%.1f",
                profiler.millis().values().stream().mapToDouble(Double::doubleValue).sum()) + " ms in all):");
        out.println("| op                                           |  calls |        ms | share  |");
        lines.stream().limit(12).forEach(out::println);

        backend.kernelTimes(true);
        Map<String, double[]> kernels;
        try {
            work.run();
        } finally {
            backend.kernelTimes(false);
            kernels = backend.kernelTimesReport();
        }
        double total = kernels.values().stream().mapToDouble(v -> v[1]).sum();
        Map<String, Double> millis = new LinkedHashMap<>();
        kernels.forEach((k, v) -> millis.put(k, v[1]));
        report.profile(what + " (GPU time per kernel)", millis);
        out.println(String.format(Locale.ROOT, "GPU time per kernel, %s (events around each launch: %.2f ms of "
                + "kernels, %d launches):", what, total, kernels.values().stream().mapToLong(v -> (long) v[0]).sum()));
        out.println("| kernel                                       |  calls |        ms | share  |");
        kernels.entrySet().stream().limit(12).forEach(e -> out.println(ProfilingBackend.tableLine(e.getKey(),
                (long) e.getValue()[0], e.getValue()[1], total > 0 ? 100 * e.getValue()[1] / total : 0)));
    }

    private static ForwardBatch step(SplittableRandom rnd, int vocab, int batch, int[] positions, int[][] tables) {
        int[][] tokens = new int[batch][1];
        for (int s = 0; s < batch; s++) {
            tokens[s][0] = rnd.nextInt(vocab);
        }
        return ForwardBatch.of(tokens, positions, tables, BLOCK);
    }

    /**
     * The prefill row at --matmul-precision high and medium side by side (the tensor-core work the hi/lo split
     * costs), each with where its time goes; the backend goes back to the suite's precision afterwards.
     */
    private void prefillAtEachPrecision(CudaBackend backend, ProfilingBackend profiler, DeepseekV2Model model,
                                        KvCache cache, RooflineBound bound, DeviceCeilings ceilings) {
        int tokens = options.prefillTokens();
        try {
            for (MatmulPrecision p : MatmulPrecision.values()) {
                backend.matmulPrecision(p);
                report.guarded("prefill " + p, () -> {
                    prefill(model, cache, bound, ceilings, tokens, p);
                    profile(backend, profiler, "prefill " + tokens + " " + p, () -> prefillOnce(model, cache, tokens));
                });
            }
        } finally {
            backend.matmulPrecision(options.matmulPrecision());
        }
    }

    private void prefill(DeepseekV2Model model, KvCache cache, RooflineBound bound, DeviceCeilings ceilings,
                         int tokens, MatmulPrecision precision) {
        int rounds = 2;
        prefillOnce(model, cache, tokens);   // warm-up
        long start = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            prefillOnce(model, cache, tokens);
        }
        double seconds = (System.nanoTime() - start) / 1e9 / rounds;
        double boundTps = ceilings.bf16FlopsPerSecond() / bound.prefillFlopsPerToken(tokens);
        report.row(new BenchRow("prefill (model forward)", "1 x " + tokens + " tokens, " + precision,
                tokens / seconds, boundTps, "tok/s", String.format(Locale.ROOT, "%.1f ms; bound %.2f GFLOP/token "
                        + "at the measured GEMM peak; matmul precision %s (%s)", seconds * 1e3,
                        bound.prefillFlopsPerToken(tokens) / 1e9, precision,
                        precision == MatmulPrecision.HIGH ? "f32 activations as bf16 hi + lo: 2-3 GEMM terms"
                                : "activations rounded to bf16: one GEMM term")));
    }

    private static void prefillOnce(DeepseekV2Model model, KvCache cache, int tokens) {
        int[][] table = new int[1][blocksFor(tokens + 1)];
        for (int i = 0; i < table[0].length; i++) {
            table[0][i] = i;
        }
        int[][] prompt = {new SplittableRandom(7).ints(tokens, 0, model.config().vocabSize()).toArray()};
        model.forward(ForwardBatch.of(prompt, new int[]{0}, table, BLOCK), cache);
    }

    /**
     * The last-token logits of {@link #REFERENCE_PROMPT} beside the JSON report (ls-logits.f32, little-endian
     * f32): the HuggingFace peer computes the same prompt with the same weights in f32, and bench/report.py
     * compares the two (max |Δ|, argmax): the full-size model checked end to end against transformers. It uses
     * a one-block f32 cache of its own (in the KV arena's slack) whatever the suite's cache dtype, so the check
     * stays at f32 accuracy.
     */
    private void referenceLogits(DeepseekV2Model model) {
        int[][] table = {{0}};
        float[] logits;
        try (KvCache f32 = model.newKvCache(1, BLOCK, KvCacheDtype.F32)) {
            logits = model.forward(ForwardBatch.of(new int[][]{REFERENCE_PROMPT}, new int[]{0}, table, BLOCK), f32)[0];
        }
        ByteBuffer buf = ByteBuffer.allocate(4 * logits.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(logits);
        Path file = options.json().resolveSibling("ls-logits.f32");
        try {
            Files.write(file, buf.array());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        out.println("reference logits of a " + REFERENCE_PROMPT.length + "-token prompt: " + file);
    }

    private static int blocksFor(int tokens) {
        return (tokens + BLOCK - 1) / BLOCK;
    }
}
