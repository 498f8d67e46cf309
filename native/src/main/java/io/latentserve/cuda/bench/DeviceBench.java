package io.latentserve.cuda.bench;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.backend.CudaBackend;
import io.latentserve.cuda.backend.CudaMoePath;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MatmulPrecision;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.model.graph.Weights;
import io.latentserve.model.perf.KnownShapes;
import io.latentserve.model.perf.ProfilingBackend;
import io.latentserve.model.perf.RooflineBound;
import io.latentserve.model.random.HashFill;
import io.latentserve.model.random.HashedTensorStore;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * `latentserve bench --device cuda`: DeepSeek-V2-Lite with random weights made on the GPU (exact config,
 * {@link HashedTensorStore}: the HuggingFace peer, cuda-kernels/bench/hf_peer.py, makes the same values),
 * timed against the bound of {@link RooflineBound} with this GPU's ceilings measured first.
 *
 * <p>Decode: B sequences with C tokens already cached each (the latent cache is made directly, zeroed, in the
 * --kv-cache-dtype chosen (bf16 by default: the cache the bound counts), rather than prefilled: a decode step's
 * cost depends on the cache's size, not its values), then timed
 * model steps of one token per sequence: the full forward pass the server runs, logits copied to the host
 * included. Prefill: one prompt of P tokens in one forward pass.
 */
public final class DeviceBench {
    public static final String USAGE = """
            usage: latentserve bench --device cuda [--shapes v2-lite|tiny] [--layers N] [--batches 1,16,64,256]
                                     [--contexts 1024,4096] [--prefill-tokens 4096] [--steps 5]
                                     [--activation-gib 16] [--json FILE] [--graphs false|true]
                                     [--kernel-benches true|false] [--kv-cache-dtype bf16|f32]
                                     [--matmul-precision high|medium]
              DeepSeek-V2-Lite's exact config with random weights made on the GPU (27 layers, ~31 GB bf16);
              the KV cache is bf16 unless --kv-cache-dtype f32 (the bound counts a bf16 cache); decode runs at
              --matmul-precision (high by default), prefill at both, side by side""";
    private static final int BLOCK = 64;
    private static final int MODEL_SEED = 42;
    /** The prompt both LatentServe and the HuggingFace peer run for the end-to-end logits check. */
    static final int[] REFERENCE_PROMPT = {100000, 17, 4, 1234, 56, 789, 10, 2024, 3, 99, 512, 7, 64, 8, 1000, 31};

    /** The benchmark's settings. */
    public record Options(String shapes, int layers, int[] batches, int[] contexts, int prefillTokens, int steps,
                          int activationGiB, Path json, boolean graphs, boolean kernelBenches,
                          KvCacheDtype kvCacheDtype, MatmulPrecision matmulPrecision) {
        public Options {
            Objects.requireNonNull(kvCacheDtype, "kvCacheDtype");
            Objects.requireNonNull(matmulPrecision, "matmulPrecision");
            if (!shapes.equals("v2-lite") && !shapes.equals("tiny")) {
                throw new IllegalArgumentException("--shapes must be v2-lite or tiny, not " + shapes);
            }
            if (layers < 1 || batches.length == 0 || contexts.length == 0 || prefillTokens < 0 || steps < 1
                    || activationGiB < 1) {
                throw new IllegalArgumentException("layers, steps and activation memory must be >= 1; batches and "
                        + "contexts non-empty; prefill tokens >= 0");
            }
        }

        public static Options defaults() {
            return new Options("v2-lite", KnownShapes.V2_LITE_LAYERS, new int[]{1, 16, 64, 256},
                    new int[]{1024, 4096}, 4096, 5, 16, null, false, true, KvCacheDtype.BF16,
                    MatmulPrecision.HIGH);
        }
    }

    private final Options options;
    private final PrintStream out;
    private final List<BenchRow> rows = new ArrayList<>();
    private final List<Profile> profiles = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();
    /** The GPU the run is on, once the context is open (the JSON report names it). */
    private String gpuName;

    public DeviceBench(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public static void main(String[] argv) {
        new DeviceBench(parse(argv), System.out).run();
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
        long kvBytes = (long) maxBlocks * BLOCK * config.kvCacheWidth() * dtype.bytesPerValue() * config.numHiddenLayers()
                + (1L << 28);
        long activationBytes = (long) options.activationGiB() << 30;
        out.printf(Locale.ROOT, "device bench: %s shapes, %d layers, %.2f B parameters; arenas: weights "
                + "%.1f GB, KV cache %.1f GB (%s, %d blocks of %d), activations %.1f GB%n",
                tiny ? "tiny DeepSeek-V2 (smoke run)" : "DeepSeek-V2-Lite", config.numHiddenLayers(),
                config.parameterCount() / 1e9, weightBytes / 1e9, kvBytes / 1e9, dtype, maxBlocks, BLOCK,
                activationBytes / 1e9);
        CudaContext ctx = CudaContext.open(0, weightBytes, kvBytes, activationBytes);
        gpuName = ctx.device().toString();
        try (CudaBackend backend = CudaBackend.create(ctx, options.graphs(), options.matmulPrecision())) {
            out.println("GPU: " + ctx.device() + "; matmul precision " + backend.matmulPrecision()
                    + " (decode; prefill at both)");
            DeviceCeilings ceilings = tiny ? DeviceCeilings.measure(ctx, 1 << 20, 128) : DeviceCeilings.measure(ctx);
            row(new BenchRow("ceiling: device copy", "1 GiB DtoD", ceilings.copyBytesPerSecond() / 1e9, Double.NaN,
                    "GB/s", "read + write per second"));
            row(new BenchRow("ceiling: bf16 GEMM (cuBLAS)", "8192^3", ceilings.bf16FlopsPerSecond() / 1e12, Double.NaN,
                    "TFLOP/s", "f32 accumulate"));
            if (!tiny && options.kernelBenches()) {
                kernelBenches(ctx, backend, ceilings);
            }
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
                            guarded("decode B " + b + ", context " + c, () -> {
                                decode(model, cache, bound, ceilings, b, c);
                                profile(profiler, "decode B " + b + ", context " + c,
                                        () -> decodeSteps(model, cache, b, c, 1));
                            });
                        }
                    }
                    if (options.json() != null && !tiny && !options.graphs()) {
                        guarded("reference logits", () -> referenceLogits(model));
                    }
                    if (options.prefillTokens() > 0) {
                        prefillAtEachPrecision(backend, profiler, model, cache, bound, ceilings);
                    }
                }
            }
        }
        out.println();
        out.println(BenchRow.tableHeader());
        rows.forEach(r -> out.println(r.tableLine()));
        if (options.json() != null) {
            saveJson();
            out.println("report: " + options.json());
        }
        return rows;
    }

    /** Kernel level, at V2-Lite's shapes, against the copy ceiling: MLA decode attention, the fused decode MoE. */
    private void kernelBenches(CudaContext ctx, CudaBackend backend, DeviceCeilings ceilings) {
        double copyGbs = ceilings.copyBytesPerSecond() / 1e9;
        guarded("ls_gemv", () -> gemvBench(ctx, backend, copyGbs));
        guarded("MoE", () -> moeBench(backend, ceilings));
        guarded("MoE wgmma", () -> moeWgmmaBench(ctx, backend, ceilings));
        guarded("MLA decode", () -> mlaBench(ctx, copyGbs));
        guarded("MLA prefill", () -> mlaPrefillBench(ctx, backend, ceilings));
    }

    /**
     * Prefill attention of one V2-Lite layer (MlaPrefillBench): a fresh 4K prompt and a 512-token chunk after 3584
     * cached tokens, on ls_mla_prefill_tc and on the cuBLAS path (whole calls, decompression included), and the
     * kernel alone with 3 and 1 terms; causal attention TFLOP/s against the bf16 GEMM ceiling.
     */
    private void mlaPrefillBench(CudaContext ctx, CudaBackend backend, DeviceCeilings ceilings) {
        double peak = ceilings.bf16FlopsPerSecond() / 1e12;
        for (int[] shape : new int[][]{{4096, 0}, {512, 3584}}) {
            for (MlaPrefillBench.Result r : MlaPrefillBench.run(ctx, backend, MlaPrefillBench.V2_LITE, shape[0],
                    shape[1], 10)) {
                String name = switch (r.path()) {
                    case FLASH_CALL -> "kernel: MLA prefill attention, ls_mla_prefill_tc (whole call)";
                    case GEMM_CALL -> "kernel: MLA prefill attention, cuBLAS + ls_causal_softmax (whole call)";
                    case KERNEL_3 -> "kernel: ls_mla_prefill_tc alone, 3 terms";
                    case KERNEL_1 -> "kernel: ls_mla_prefill_tc alone, 1 term (hi only)";
                };
                boolean call = r.path() == MlaPrefillBench.Path.FLASH_CALL || r.path() == MlaPrefillBench.Path.GEMM_CALL;
                row(new BenchRow(name, "T " + r.newTokens() + " after " + r.cached() + ", 16 heads 128+64/128",
                        r.flopsPerSecond() / 1e12, peak, "TFLOP/s", String.format(Locale.ROOT,
                        "%.3f ms; causal attention FLOPs only%s", r.secondsPerCall() * 1e3,
                        call ? " (the call also gathers and decompresses the context through kv_b_proj)" : "")));
            }
        }
    }

    /** A bench that fails is reported and skipped: the rest of the suite still runs. */
    private void guarded(String what, Runnable bench) {
        try {
            bench.run();
        } catch (RuntimeException e) {
            out.println("bench " + what + " failed: " + e);
            errors.add(what + ": " + e);
        }
    }

    /**
     * One V2-Lite MoE layer's routed experts on each path: decode sizes against the copy ceiling (the touched
     * experts' bytes), prefill sizes against the GEMM peak (their FLOPs); then the whole layer with its shared
     * experts on the server's path, folded into the fused launches or run first as a dense MLP.
     */
    private void moeBench(CudaBackend backend, DeviceCeilings ceilings) {
        record PathRun(CudaMoePath path, int[] tokens) {
        }
        List<PathRun> runs = List.of(new PathRun(CudaMoePath.FUSED, new int[]{1, 16, 64, 256}),
                new PathRun(CudaMoePath.FUSED_TC, new int[]{1, 16, 64, 256}),
                new PathRun(CudaMoePath.GROUPED, new int[]{16, 64, 256, 4096}),
                new PathRun(CudaMoePath.PER_EXPERT, new int[]{256, 4096}));
        MoeDecodeBench.Layer layer = MoeDecodeBench.layer(backend, 1);
        for (PathRun run : runs) {
            String name = "kernel: MoE layer, " + run.path().name().toLowerCase(Locale.ROOT).replace('_', '-');
            for (MoeDecodeBench.Result r : layer.run(run.tokens(), 20, run.path())) {
                moeRow(name, r, ceilings);
            }
        }
        for (boolean folded : new boolean[]{false, true}) {
            String name = "kernel: MoE layer + " + MoeDecodeBench.SHARED + " shared, "
                    + (folded ? "shared folded" : "shared MLP first");
            for (MoeDecodeBench.Result r : layer.runShared(new int[]{1, 8, 16, 64, 256}, 20, folded)) {
                moeRow(name, r, ceilings);
            }
        }
    }

    /**
     * The Hopper wgmma MoE kernels (CudaMoePath.FUSED_WGMMA: compute capability 9.0 only) on the same V2-Lite layer at
     * prefill sizes, in TFLOP/s and as a fraction of the measured bf16 GEMM ceiling, beside moeBench's grouped cuBLAS
     * rows at the same token counts: the first GPU run decides whether -Dlatentserve.cuda.moeWgmma becomes the default
     * above the fused threshold. Both paths split the f32 activations into bf16 hi + lo, so the tensor cores do twice
     * the FLOPs counted (the model's 2 x 3 x D x I per token-expert pair).
     */
    private void moeWgmmaBench(CudaContext ctx, CudaBackend backend, DeviceCeilings ceilings) {
        if (ctx.device().computeMajor() != 9 || ctx.device().computeMinor() != 0) {
            out.println("bench MoE wgmma skipped: " + ctx.device() + " is not compute capability 9.0 (sm_90a code)");
            return;
        }
        MoeDecodeBench.Layer layer = MoeDecodeBench.layer(backend, 1);
        for (MoeDecodeBench.Result r : layer.run(new int[]{256, 1024, 4096}, 20, CudaMoePath.FUSED_WGMMA)) {
            moeRow("kernel: MoE layer, fused-wgmma", r, ceilings);
        }
        for (MoeDecodeBench.Result r : layer.run(new int[]{1024}, 20, CudaMoePath.GROUPED)) {
            moeRow("kernel: MoE layer, grouped", r, ceilings);
        }
    }

    private void moeRow(String name, MoeDecodeBench.Result r, DeviceCeilings ceilings) {
        boolean prefill = r.tokens() > 256;
        String shape = "T " + r.tokens() + ", 64 experts top-6";
        String note = String.format(Locale.ROOT, "%.1f us/call; %d experts touched; %.0f GB/s, %.1f TFLOP/s",
                r.secondsPerCall() * 1e6, r.distinctExperts(), r.bytesPerSecond() / 1e9, r.flopsPerSecond() / 1e12);
        row(prefill ? new BenchRow(name, shape, r.flopsPerSecond() / 1e12, ceilings.bf16FlopsPerSecond() / 1e12,
                "TFLOP/s", note)
                : new BenchRow(name, shape, r.bytesPerSecond() / 1e9, ceilings.copyBytesPerSecond() / 1e9, "GB/s", note));
    }

    private void mlaBench(CudaContext ctx, double copyGbs) {
        for (MlaDecodeBench.Result r : MlaDecodeBench.run(ctx, 20)) {
            String shape = "B " + r.batch() + ", context " + r.context();
            String cache = r.dtype() + " cache";
            row(new BenchRow("kernel: ls_mla_decode + combine (" + cache + ")", shape, r.gbPerSecond(), copyGbs,
                    "GB/s", String.format(Locale.ROOT, "%.3f ms; %s latent cache + queries read once; %d work items,"
                            + " chunk %d", r.decodeMillis(), r.dtype(), r.plan().numWork(), r.plan().chunk())));
            row(new BenchRow("kernel: ls_attention (part 1, " + cache + ")", shape, r.attentionGbPerSecond(), copyGbs,
                    "GB/s", String.format(Locale.ROOT, "%.3f ms; the same bytes counted once", r.attentionMillis())));
            if (r.hasTc()) {
                row(new BenchRow("kernel: ls_mla_decode_tc + combine (" + cache + ")", shape, r.tcGbPerSecond(),
                        copyGbs, "GB/s", String.format(Locale.ROOT, "%.3f ms; bf16 latent cache + f32 queries read "
                                + "once, tensor cores; same plan", r.tcMillis())));
            }
            if (r.hasTma()) {
                row(new BenchRow("kernel: ls_mla_decode_tma + combine (" + cache + ")", shape, r.tmaGbPerSecond(),
                        copyGbs, "GB/s", String.format(Locale.ROOT, "%.3f ms; ls_mla_decode_tc with its key tiles "
                                + "filled by the bulk copy engine (cp.async.bulk + mbarrier); same plan", r.tmaMillis())));
            }
        }
    }

    /** Decode's dense products (ls_gemv) at V2-Lite shapes: the weight's bytes over the time of one product. */
    private void gemvBench(CudaContext ctx, CudaBackend backend, double copyGbs) {
        int[][] shapes = {{1, 102400, 2048}, {8, 102400, 2048}, {1, 10944, 2048}, {1, 3072, 2048}, {1, 576, 2048}};
        for (int[] sh : shapes) {
            int t = sh[0];
            int n = sh[1];
            int k = sh[2];
            backend.beginForward();
            Tensor w = backend.hashedWeight("bench.gemv", new long[]{n, k}, new HashFill(n, 0f, 0.02f), null);
            float[] xs = new float[t * k];
            SplittableRandom rnd = new SplittableRandom(n);
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) rnd.nextDouble(-1, 1);
            }
            Tensor x = backend.fromHost(xs, t, k);
            Tensor out = backend.activation(t, n);
            Timing timing = Timing.best(ctx, 3, 20, () -> backend.matmul(x, w, out));
            double bytes = 2.0 * n * k;
            row(new BenchRow("kernel: matmul (decode, ls_gemv)", t + " x [" + n + " x " + k + "]",
                    bytes / timing.secondsPerRep() / 1e9, copyGbs, "GB/s",
                    String.format(Locale.ROOT, "%.1f us; the bf16 weight read once", timing.secondsPerRep() * 1e6)));
        }
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
        row(new BenchRow(options.graphs() ? "decode step (forward, CUDA graphs)" : "decode step (model forward)", shape, batch / stepSeconds, batch / boundSeconds, "tok/s",
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

    /** One more run of work with every operation timed on its own: where the time goes. */
    private void profile(ProfilingBackend profiler, String what, Runnable work) {
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
        profiles.add(new Profile(what, profiler.millis()));
        out.println("where the time goes, " + what + " (each op synchronised: " + String.format(Locale.ROOT, "%.1f",
                profiler.millis().values().stream().mapToDouble(Double::doubleValue).sum()) + " ms in all):");
        out.println("| op                                           |  calls |        ms | share  |");
        lines.stream().limit(12).forEach(out::println);
    }

    private record Profile(String what, Map<String, Double> millis) {
        String json() {
            return "{\"what\":" + BenchRow.quote(what) + ",\"ms\":{" + millis.entrySet().stream()
                    .map(e -> BenchRow.quote(e.getKey()) + ":" + String.format(Locale.ROOT, "%.4f", e.getValue()))
                    .collect(Collectors.joining(",")) + "}}";
        }
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
                guarded("prefill " + p, () -> {
                    prefill(model, cache, bound, ceilings, tokens, p);
                    profile(profiler, "prefill " + tokens + " " + p, () -> prefillOnce(model, cache, tokens));
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
        row(new BenchRow("prefill (model forward)", "1 x " + tokens + " tokens, " + precision, tokens / seconds, boundTps,
                "tok/s", String.format(Locale.ROOT, "%.1f ms; bound %.2f GFLOP/token at the measured GEMM peak; "
                        + "matmul precision %s (%s)", seconds * 1e3, bound.prefillFlopsPerToken(tokens) / 1e9, precision,
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

    /**
     * Adds a row, prints it and rewrites the JSON report at once, so a run cut short (device-check.sh bounds
     * each part with a timeout) still reports what it measured.
     */
    public void row(BenchRow row) {
        rows.add(row);
        out.println(row.tableLine());
        out.flush();
        if (options.json() != null && gpuName != null) {
            saveJson();
        }
    }

    private void saveJson() {
        String json = "{\"gpu\":" + BenchRow.quote(gpuName) + ",\"layers\":" + options.layers() + ",\"kvCacheDtype\":"
                + BenchRow.quote(options.kvCacheDtype().cliName()) + ",\"rows\":["
                + rows.stream().map(BenchRow::json).collect(Collectors.joining(",\n")) + "],\n\"profiles\":["
                + profiles.stream().map(Profile::json).collect(Collectors.joining(",\n")) + "],\n\"errors\":["
                + errors.stream().map(BenchRow::quote).collect(Collectors.joining(",")) + "]}\n";
        BenchRow.writeReport(options.json(), json);
    }

    private static int blocksFor(int tokens) {
        return (tokens + BLOCK - 1) / BLOCK;
    }

    /** --name value pairs; unknown names and bad numbers are usage errors. */
    public static Options parse(String[] argv) {
        Options d = Options.defaults();
        String shapes = d.shapes();
        boolean graphs = d.graphs();
        boolean kernelBenches = d.kernelBenches();
        int layers = d.layers();
        int[] batches = d.batches();
        int[] contexts = d.contexts();
        int prefill = d.prefillTokens();
        int steps = d.steps();
        int activation = d.activationGiB();
        Path json = null;
        KvCacheDtype kvCacheDtype = d.kvCacheDtype();
        MatmulPrecision matmulPrecision = d.matmulPrecision();
        for (int i = 0; i < argv.length; i++) {
            String name = argv[i];
            if (i + 1 >= argv.length) {
                throw new IllegalArgumentException(name + " needs a value\n" + USAGE);
            }
            String value = argv[++i];
            switch (name) {
                case "--shapes" -> shapes = value;
                case "--layers" -> layers = Integer.parseInt(value);
                case "--batches" -> batches = ints(value);
                case "--contexts" -> contexts = ints(value);
                case "--prefill-tokens" -> prefill = Integer.parseInt(value);
                case "--steps" -> steps = Integer.parseInt(value);
                case "--activation-gib" -> activation = Integer.parseInt(value);
                case "--json" -> json = Path.of(value);
                case "--graphs" -> graphs = bool(name, value);
                case "--kernel-benches" -> kernelBenches = bool(name, value);
                case "--kv-cache-dtype" -> kvCacheDtype = KvCacheDtype.parse(value);
                case "--matmul-precision" -> matmulPrecision = MatmulPrecision.parse(value);
                default -> throw new IllegalArgumentException("unknown option " + name + "\n" + USAGE);
            }
        }
        return new Options(shapes, layers, batches, contexts, prefill, steps, activation, json, graphs,
                kernelBenches, kvCacheDtype, matmulPrecision);
    }

    private static boolean bool(String name, String value) {
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(name + " takes true or false, not " + value);
        };
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }
}
