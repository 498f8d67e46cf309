package io.latentserve.cuda.bench;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.backend.CudaBackend;
import io.latentserve.cuda.backend.CudaMoePath;
import io.latentserve.model.backend.MatmulPrecision;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.random.HashFill;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * DeviceBench's kernel-level rows, at V2-Lite's shapes, against the ceilings measured in the same run: decode's
 * dense products (ls_gemv), one MoE layer on each path (and the Hopper wgmma kernels), MLA decode attention and
 * MLA prefill attention, device sampling. Each bench adds its rows to the run's {@link BenchReport}.
 */
final class KernelBenches {
    private final BenchReport report;
    private final PrintStream out;

    KernelBenches(BenchReport report, PrintStream out) {
        this.report = report;
        this.out = out;
    }

    /**
     * Runs every kernel bench, each guarded: one that fails is reported and the others still run (unless the
     * failure poisoned the context: then the later ones fail too, which is why the untried paths come last).
     */
    void run(CudaContext ctx, CudaBackend backend, DeviceCeilings ceilings) {
        double copyGbs = ceilings.copyBytesPerSecond() / 1e9;
        report.guarded("ls_gemv", () -> gemvBench(ctx, backend, copyGbs));
        report.guarded("MoE", () -> moeBench(backend, ceilings));
        report.guarded("MLA prefill", () -> mlaPrefillBench(ctx, backend, ceilings));
        report.guarded("sampling", () -> sampleBench(ctx, backend));
        // the two with mbarrier pipelines last (ls_mla_decode_tma's rows come with MLA decode's)
        report.guarded("MLA decode", () -> mlaBench(ctx, copyGbs));
        report.guarded("MoE wgmma", () -> moeWgmmaBench(ctx, backend, ceilings));
    }

    /**
     * Device sampling of B = 1, 64, 256 rows of V2's 102,400 logits ({@link SampleBench}): rows per second of whole
     * calls (no bound: the figure to watch is the microseconds against a decode step's ~1 ms).
     */
    private void sampleBench(CudaContext ctx, CudaBackend backend) {
        for (SampleBench.Result r : SampleBench.run(ctx, backend, new int[]{1, 64, 256}, 102400, 10)) {
            report.row(new BenchRow("kernel: ls_sample (whole call)", "B " + r.rows() + " x " + r.vocab() + ", "
                    + r.mode().label(), r.rowsPerSecond(), Double.NaN, "rows/s", String.format(Locale.ROOT,
                    "%.1f us/call; parameters%s up, tokens down", r.secondsPerCall() * 1e6,
                    r.mode() == SampleBench.Mode.TOP_P_PENALTIES ? " and logit edits (ls_logit_edits)" : "")));
        }
    }

    /**
     * Prefill attention of one V2-Lite layer (MlaPrefillBench): a fresh 4K prompt, a 512-token chunk after 3584
     * cached tokens and chunks of 8, 32 and 64 after ~4K cached, on ls_mla_prefill_tc and on the cuBLAS path (whole
     * calls, decompression included), the short chunks absorbed too (MlaMode.AUTO takes up to 32 that way), and the
     * kernel alone with 3 and 1 terms; causal attention TFLOP/s against the bf16 GEMM ceiling.
     */
    private void mlaPrefillBench(CudaContext ctx, CudaBackend backend, DeviceCeilings ceilings) {
        double peak = ceilings.bf16FlopsPerSecond() / 1e12;
        for (int[] shape : new int[][]{{4096, 0}, {512, 3584}, {8, 4088}, {32, 4064}, {64, 4032}}) {
            for (MlaPrefillBench.Result r : MlaPrefillBench.run(ctx, backend, MlaPrefillBench.V2_LITE, shape[0],
                    shape[1], 10)) {
                String name = switch (r.path()) {
                    case FLASH_CALL -> "kernel: MLA prefill attention, ls_mla_prefill_tc (whole call)";
                    case GEMM_CALL -> "kernel: MLA prefill attention, cuBLAS + ls_causal_softmax (whole call)";
                    case ABSORBED_CALL -> "kernel: MLA prefill attention, absorbed on the decode kernels (whole call)";
                    case KERNEL_3 -> "kernel: ls_mla_prefill_tc alone, 3 terms";
                    case KERNEL_1 -> "kernel: ls_mla_prefill_tc alone, 1 term (hi only)";
                };
                boolean call = r.path() == MlaPrefillBench.Path.FLASH_CALL
                        || r.path() == MlaPrefillBench.Path.GEMM_CALL;   // the absorbed call decompresses nothing
                report.row(new BenchRow(name, "T " + r.newTokens() + " after " + r.cached() + ", 16 heads 128+64/128",
                        r.flopsPerSecond() / 1e12, peak, "TFLOP/s", String.format(Locale.ROOT,
                        "%.3f ms; causal attention FLOPs only%s", r.secondsPerCall() * 1e3,
                        call ? " (the call also gathers and decompresses the context through kv_b_proj)" : "")));
            }
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
     * decode sizes 64 and 256 (GB/s beside fused-tc's rows) and prefill sizes (1K, 4K and 16K tokens), in TFLOP/s and as a fraction of the measured bf16 GEMM ceiling, beside
     * grouped cuBLAS at 4K, at each matmul precision: high splits the f32 activations into bf16 hi + lo, so the
     * tensor cores do twice the FLOPs counted (the model's 2 x 3 x D x I per token-expert pair) and 0.5 of the
     * ceiling is its limit; medium (bf16 activations, as HF and vLLM) is the row the 60% target reads. The first
     * GPU run decides whether -Dlatentserve.cuda.moeWgmma becomes the default above the fused threshold.
     */
    private void moeWgmmaBench(CudaContext ctx, CudaBackend backend, DeviceCeilings ceilings) {
        if (ctx.device().computeMajor() != 9 || ctx.device().computeMinor() != 0) {
            out.println("bench MoE wgmma skipped: " + ctx.device() + " is not compute capability 9.0 (sm_90a code)");
            return;
        }
        MatmulPrecision before = backend.matmulPrecision();
        MoeDecodeBench.Layer layer = MoeDecodeBench.layer(backend, 1);
        try {
            for (MatmulPrecision p : MatmulPrecision.values()) {
                backend.matmulPrecision(p);
                String at = " (" + p.name().toLowerCase(Locale.ROOT) + ")";
                // decode sizes too (GB/s of the touched experts' weights): a 128-row tile wastes products at a few
                // dozen rows per expert, but decode is bound by the weight bytes, which TMA streams once per m-tile
                for (MoeDecodeBench.Result r : layer.run(new int[]{64, 256, 1024, 4096, 16384}, 10,
                        CudaMoePath.FUSED_WGMMA)) {
                    moeRow("kernel: MoE layer, fused-wgmma" + at, r, ceilings);
                }
                for (MoeDecodeBench.Result r : layer.run(new int[]{4096}, 10, CudaMoePath.GROUPED)) {
                    moeRow("kernel: MoE layer, grouped" + at, r, ceilings);
                }
            }
        } finally {
            backend.matmulPrecision(before);
        }
    }

    private void moeRow(String name, MoeDecodeBench.Result r, DeviceCeilings ceilings) {
        boolean prefill = r.tokens() > 256;
        String shape = "T " + r.tokens() + ", 64 experts top-6";
        String note = String.format(Locale.ROOT, "%.1f us/call; %d experts touched; %.0f GB/s, %.1f TFLOP/s",
                r.secondsPerCall() * 1e6, r.distinctExperts(), r.bytesPerSecond() / 1e9, r.flopsPerSecond() / 1e12);
        report.row(prefill ? new BenchRow(name, shape, r.flopsPerSecond() / 1e12, ceilings.bf16FlopsPerSecond() / 1e12,
                "TFLOP/s", note)
                : new BenchRow(name, shape, r.bytesPerSecond() / 1e9, ceilings.copyBytesPerSecond() / 1e9, "GB/s",
                        note));
    }

    private void mlaBench(CudaContext ctx, double copyGbs) {
        for (MlaDecodeBench.Result r : MlaDecodeBench.run(ctx, 20)) {
            String shape = "B " + r.batch() + ", context " + r.context();
            String cache = r.dtype() + " cache";
            report.row(new BenchRow("kernel: ls_mla_decode + combine (" + cache + ")", shape, r.gbPerSecond(),
                    copyGbs, "GB/s", String.format(Locale.ROOT, "%.3f ms; %s latent cache + queries read once; %d "
                            + "work items, chunk %d", r.decodeMillis(), r.dtype(), r.plan().numWork(),
                            r.plan().chunk())));
            report.row(new BenchRow("kernel: ls_attention (part 1, " + cache + ")", shape, r.attentionGbPerSecond(),
                    copyGbs, "GB/s", String.format(Locale.ROOT, "%.3f ms; the same bytes counted once",
                            r.attentionMillis())));
            if (r.hasTc()) {
                report.row(new BenchRow("kernel: ls_mla_decode_tc + combine (" + cache + ")", shape, r.tcGbPerSecond(),
                        copyGbs, "GB/s", String.format(Locale.ROOT, "%.3f ms; bf16 latent cache + f32 queries read "
                                + "once, tensor cores; same plan", r.tcMillis())));
            }
            if (r.hasTma()) {
                report.row(new BenchRow("kernel: ls_mla_decode_tma + combine (" + cache + ")", shape,
                        r.tmaGbPerSecond(), copyGbs, "GB/s", String.format(Locale.ROOT, "%.3f ms; ls_mla_decode_tc "
                                + "with its key tiles filled by the bulk copy engine (cp.async.bulk + mbarrier); same "
                                + "plan", r.tmaMillis())));
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
            report.row(new BenchRow("kernel: matmul (decode, ls_gemv)", t + " x [" + n + " x " + k + "]",
                    bytes / timing.secondsPerRep() / 1e9, copyGbs, "GB/s",
                    String.format(Locale.ROOT, "%.1f us; the bf16 weight read once", timing.secondsPerRep() * 1e6)));
        }
    }
}
