package io.latentserve.cuda.backend;

import io.latentserve.model.RandomModels;
import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.ExpertWeights;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MatmulPrecision;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.backend.MlaShape;
import io.latentserve.model.backend.MoeRouting;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.checkpoint.DType;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.model.graph.Golden;
import io.latentserve.model.graph.Weights;
import io.latentserve.model.random.RandomTensorStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --matmul-precision medium on the CUDA backend: every tensor-core product takes its f32 activations rounded to
 * bf16 (nearest even) instead of split into hi + lo. Each check is against what that spec computes exactly (an
 * f64 reference over the rounded inputs) and against the CPU backend within bf16-level tolerances, and each
 * shows that medium really differs from high (the mode took effect). Small shapes: they run under emulation.
 */
@Tag("gpu")
class CudaMatmulPrecisionGpuTest {
    /** Medium against the f64 product of the rounded inputs: only f32 accumulation order is left. */
    static final double TOL_SPEC = 1e-5;
    /** Medium against f32 results (CPU backend, high): each input rounded to bf16, up to 2^-8 relative. */
    static final double TOL_BF16 = 2e-2;
    /**
     * GEMM attention medium against the f64 reference over rounded operands (relative norm): the probabilities
     * are rounded from f32 on the GPU and from f64 here, so the odd one lands on the other side of a bf16 tie.
     */
    static final double TOL_ROUNDED_ATTENTION = 1e-3;
    /** Medium must differ from high by more than this (high is within ~1e-5 of f32). */
    static final double MIN_EFFECT = 1e-4;

    static GpuBackends b;
    final SplittableRandom rnd = new SplittableRandom(1101);

    @BeforeAll
    static void open() {
        b = GpuBackends.open(2, 1, 2);
    }

    @AfterAll
    static void close() {
        if (b != null) {
            b.close();
        }
    }

    @AfterEach
    void backToHigh() {
        b.cuda.matmulPrecision(MatmulPrecision.HIGH);
    }

    /** Runs the same work at each precision on the CUDA backend: [0] high, [1] medium. */
    static float[][] atBothPrecisions(Function<Backend, float[]> work) {
        float[][] out = new float[2][];
        for (MatmulPrecision p : MatmulPrecision.values()) {
            b.cuda.matmulPrecision(p);
            out[p.ordinal()] = work.apply(b.cuda);
        }
        b.cuda.matmulPrecision(MatmulPrecision.HIGH);
        return out;
    }

    static void checkDiffers(String what, String shape, double difference) {
        System.out.printf("%s %s: medium differs from high by %.3e%n", what, shape, difference);
        assertTrue(difference > MIN_EFFECT, what + " " + shape + ": medium equals high (" + difference
                + "): the precision did not take effect");
    }

    static float[] rounded(float[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = GpuBackends.roundBf16(a[i]);
        }
        return r;
    }

    /** ‖got − want‖₂ / ‖want‖₂ (NaN counts as infinite). */
    static double relNormErr(float[] got, float[] want) {
        double d = 0;
        double n = 0;
        for (int i = 0; i < want.length; i++) {
            double e = (double) got[i] - want[i];
            d += e * e;
            n += (double) want[i] * want[i];
        }
        return Double.isNaN(d) || got.length != want.length ? Double.POSITIVE_INFINITY : Math.sqrt(d / n);
    }

    /** A fresh activation [rows, cols] holding the values, a column view inside wider rows when pad > 0. */
    static Tensor input(Backend be, int rows, int cols, int pad, float[] values) {
        Tensor full = be.activation(rows, cols + 2 * pad);
        Tensor t = pad > 0 ? be.columns(full, pad, cols) : full;
        b.fill(be, t, values);
        return t;
    }

    // ---- Gemm.matmul: one cuBLAS GEMM of the rounded rows ----

    @Test
    void gemmIsTheProductOfTheRoundedActivations() {
        int[][] shapes = {{9, 64, 64}, {33, 256, 1000}, {17, 257, 129}, {64, 2048, 40}};
        for (int[] s : shapes) {
            int t = s[0];
            int k = s[1];
            int n = s[2];
            float[] w = rounded(GpuBackends.random(rnd, n * k, 1 / Math.sqrt(k)));   // bf16 values, stored exactly
            float[] x = GpuBackends.gaussian(rnd, t * k, 1);
            Tensor[] weight = b.weight(DType.BF16, n, k, w);
            int pad = t % 3;                                                     // strided x and out for odd T
            float[][] gpu = atBothPrecisions(be -> {
                Tensor out = input(be, t, n, pad, new float[t * n]);
                be.matmul(input(be, t, k, pad, x), weight[0], out);
                return be.toHost(out);
            });
            String shape = "T " + t + ", K " + k + ", N " + n + (pad > 0 ? ", strided" : "");
            GpuReport.check("matmul medium vs rounded f64", shape,
                    GpuReport.maxRelErr(gpu[1], product(rounded(x), w, t, k, n)), TOL_SPEC);
            GpuReport.check("matmul high vs f64", shape, GpuReport.maxRelErr(gpu[0], product(x, w, t, k, n)),
                    CudaElementwiseGpuTest.TOL_GEMM);
            checkDiffers("matmul", shape, GpuReport.maxRelErr(gpu[1], gpu[0]));
        }
    }

    /** x [T, K] · w [N, K]ᵀ in f64, rounded to f32 once. */
    static float[] product(float[] x, float[] w, int t, int k, int n) {
        float[] out = new float[t * n];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int l = 0; l < k; l++) {
                    acc += (double) x[i * k + l] * w[j * k + l];
                }
                out[i * n + j] = (float) acc;
            }
        }
        return out;
    }

    // ---- CudaMlaDecompressed.gemmAttention: one term per product ----

    @Test
    void gemmAttentionTakesRoundedOperands() {
        MlaShape tiny = new MlaShape(4, 16, 8, 16, 32, 0.3244811f);   // rope 8: not ls_mla_prefill_tc's shape
        mlaPrefill(tiny, 0, 200, CudaMlaDecompressed.PrefillPath.GEMM);    // one chunk of queries from position 0
        mlaPrefill(tiny, 60, 140, CudaMlaDecompressed.PrefillPath.GEMM);   // after a cached prefix (a prefix-cache hit)
    }

    /**
     * ls_mla_prefill_tc takes one term (hi·hi) at medium. Its P is rounded per key tile before normalisation,
     * not as the f64 reference rounds it, so only the CPU comparison and the difference from high are checked.
     */
    @Test
    void flashPrefillTakesOneTermAtMedium() {
        MlaShape small = new MlaShape(2, 16, 16, 16, 32, 0.25f);
        mlaPrefill(small, 0, 200, CudaMlaDecompressed.PrefillPath.FLASH_TC);
        mlaPrefill(small, 60, 140, CudaMlaDecompressed.PrefillPath.FLASH_TC);
    }

    /**
     * One sequence of `count` new tokens after `prefix` cached ones, decompressed MLA through the given prefill
     * path (GEMM attention or ls_mla_prefill_tc).
     */
    void mlaPrefill(MlaShape sh, int prefix, int count, CudaMlaDecompressed.PrefillPath path) {
        int ctx = prefix + count;
        int h = sh.numHeads();
        int width = sh.cacheWidth();
        int kvRows = h * (sh.qkNopeHeadDim() + sh.vHeadDim());
        int blockSize = 16;
        int blocks = (ctx + blockSize - 1) / blockSize;
        int[] table = new int[blocks];
        int[] slots = new int[ctx];
        int[] positions = new int[count];
        for (int i = 0; i < blocks; i++) {
            table[i] = blocks - 1 - i;   // out of order
        }
        for (int p = 0; p < ctx; p++) {
            slots[p] = table[p / blockSize] * blockSize + p % blockSize;
        }
        for (int i = 0; i < count; i++) {
            positions[i] = prefix + i;
        }
        AttentionBatch batch = new AttentionBatch(new int[]{0, count}, positions, new int[][]{table},
                java.util.Arrays.copyOfRange(slots, prefix, ctx), blockSize);
        assertTrue(path != CudaMlaDecompressed.PrefillPath.GEMM || CudaAttentionGpuTest.gemmPrefill(batch),
                "the batch must be long enough for the GEMM attention path");
        float[] w = rounded(GpuBackends.random(rnd, kvRows * sh.kvLoraRank(), 1 / Math.sqrt(sh.kvLoraRank())));
        float[] latent = GpuBackends.gaussian(rnd, ctx * width, 1);
        float[] q = GpuBackends.gaussian(rnd, count * h * sh.qkHeadDim(), 1);
        Tensor[] kvB = b.weight(DType.BF16, kvRows, sh.kvLoraRank(), w);
        Function<Backend, float[]> run = be -> {
            try (KvCache cache = be.kvCache(1, blocks, blockSize, width, KvCacheDtype.F32)) {
                be.writeKvCache(cache, 0, b.input(be, ctx, width, latent), slots);
                Tensor out = be.activation(count, h * sh.vHeadDim());
                be.mlaAttention(b.input(be, count, h * sh.qkHeadDim(), q), cache, 0, be == b.cuda ? kvB[0] : kvB[1],
                        sh, batch, MlaMode.DECOMPRESSED, out);
                return be.toHost(out);
            }
        };
        float[][] gpu = atBothPrecisions(run);
        assertEquals(path, b.cuda.attention.lastPrefillPath());
        float[] cpu = run.apply(b.cpu);
        String shape = "H " + h + " r " + sh.kvLoraRank() + ", " + prefix + " cached + " + count + " new";
        String kernel = path == CudaMlaDecompressed.PrefillPath.GEMM ? "GEMM attention" : "ls_mla_prefill_tc";
        if (path == CudaMlaDecompressed.PrefillPath.GEMM) {
            GpuReport.check(kernel + " medium vs rounded f64", shape,
                    relNormErr(gpu[1], MlaPrefillReference.of(sh, q, latent, w, prefix, count, true)),
                    TOL_ROUNDED_ATTENTION);
        }
        GpuReport.check(kernel + " medium vs CPU", shape, relNormErr(gpu[1], cpu), TOL_BF16);
        GpuReport.check(kernel + " high vs CPU", shape, relNormErr(gpu[0], cpu), 1e-4);
        checkDiffers(kernel, shape, relNormErr(gpu[1], gpu[0]));
    }

    // ---- CudaGroupedMoe: the hi half alone ----

    @Test
    void groupedMoeMultipliesTheRoundedRows() {
        int tokens = 300;   // above the fused path's 256: grouped GEMMs
        int hidden = 64;
        int inter = 40;
        int numExperts = 8;
        int k = 2;
        List<List<ExpertWeights>> experts = List.of(new ArrayList<>(), new ArrayList<>());
        for (int e = 0; e < numExperts; e++) {
            Tensor[] g = b.weight(DType.BF16, inter, hidden, GpuBackends.random(rnd, inter * hidden, 1 / Math.sqrt(hidden)));
            Tensor[] u = b.weight(DType.BF16, inter, hidden, GpuBackends.random(rnd, inter * hidden, 1 / Math.sqrt(hidden)));
            Tensor[] d = b.weight(DType.BF16, hidden, inter, GpuBackends.random(rnd, hidden * inter, 1 / Math.sqrt(inter)));
            experts.get(0).add(new ExpertWeights(g[0], u[0], d[0]));
            experts.get(1).add(new ExpertWeights(g[1], u[1], d[1]));
        }
        MoeRouting routing = randomRouting(tokens, numExperts, k);
        float[] x = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        Function<Backend, float[]> run = be -> moeExperts(be, routing, experts.get(be == b.cuda ? 0 : 1), x, hidden);
        float[][] gpu = atBothPrecisions(run);
        assertEquals(CudaMoePath.GROUPED, b.cuda.moe.lastPath(), "grouped unavailable: " + b.cuda.moe.groupedUnavailable());
        float[] cpu = run.apply(b.cpu);
        String shape = tokens + " tokens, " + numExperts + " experts top-" + k + ", D " + hidden + ", I " + inter;
        GpuReport.check("grouped MoE medium vs CPU", shape, GpuReport.maxRelErr(gpu[1], cpu), TOL_BF16);
        GpuReport.check("grouped MoE high vs CPU", shape, GpuReport.maxRelErr(gpu[0], cpu), 2e-4);
        checkDiffers("grouped MoE", shape, GpuReport.maxRelErr(gpu[1], gpu[0]));
    }

    // ---- the Hopper MoE kernels: x and h rounded to bf16 ----

    /**
     * ls_moe_gate_up_wgmma / ls_moe_down_wgmma at medium (one bf16 term of x and of h) against what that spec computes
     * in f64 (x rounded, h rounded after the f64 SiLU-gate, rounded bf16 weights), and against the CPU backend; high
     * must differ. Only on a compute capability 9.0 device (the emulation's fake device is one).
     */
    @Tag("mbarrier")
    @Test
    void wgmmaMoeTakesOneTermOfXAndHAtMedium() {
        if (!CudaMoeGpuTest.wgmmaDevice(b)) {
            System.out.println("SKIPPED wgmma MoE at medium: " + b.cuda.moe.device() + " is not compute capability 9.0");
            return;
        }
        int tokens = 300;   // above the fused decode kernels' 256: the wgmma kernels once switched on
        int hidden = 80;
        int inter = 48;
        int numExperts = 6;
        int k = 2;
        List<List<ExpertWeights>> experts = List.of(new ArrayList<>(), new ArrayList<>());
        float[][][] w = new float[numExperts][][];   // per expert: gate, up, down, as bf16 values
        for (int e = 0; e < numExperts; e++) {
            float[] g = GpuBackends.random(rnd, inter * hidden, 1 / Math.sqrt(hidden));
            float[] u = GpuBackends.random(rnd, inter * hidden, 1 / Math.sqrt(hidden));
            float[] d = GpuBackends.random(rnd, hidden * inter, 1 / Math.sqrt(inter));
            Tensor[] gt = b.weight(DType.BF16, inter, hidden, g);
            Tensor[] ut = b.weight(DType.BF16, inter, hidden, u);
            Tensor[] dt = b.weight(DType.BF16, hidden, inter, d);
            experts.get(0).add(new ExpertWeights(gt[0], ut[0], dt[0]));
            experts.get(1).add(new ExpertWeights(gt[1], ut[1], dt[1]));
            w[e] = new float[][]{rounded(g), rounded(u), rounded(d)};
        }
        MoeRouting routing = randomRouting(tokens, numExperts, k);
        float[] x = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        Function<Backend, float[]> run = be -> moeExperts(be, routing, experts.get(be == b.cuda ? 0 : 1), x, hidden);
        float[][] gpu;
        b.cuda.moe.wgmmaAuto(true);
        try {
            gpu = atBothPrecisions(run);
            assertEquals(CudaMoePath.FUSED_WGMMA, b.cuda.moe.lastPath(), "the wgmma kernels ran");
        } finally {
            b.cuda.moe.wgmmaAuto(CudaFusedMoe.WGMMA);
        }
        float[] xr = rounded(x);
        float[] spec = new float[tokens * hidden];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < k; j++) {
                float[][] we = w[routing.experts()[t * k + j]];
                float[] h = new float[inter];
                for (int i = 0; i < inter; i++) {
                    double g = 0;
                    double u = 0;
                    for (int c = 0; c < hidden; c++) {
                        g += (double) we[0][i * hidden + c] * xr[t * hidden + c];
                        u += (double) we[1][i * hidden + c] * xr[t * hidden + c];
                    }
                    h[i] = GpuBackends.roundBf16((float) (g / (1 + Math.exp(-g)) * u));
                }
                for (int c = 0; c < hidden; c++) {
                    double y = 0;
                    for (int i = 0; i < inter; i++) {
                        y += (double) we[2][c * inter + i] * h[i];
                    }
                    spec[t * hidden + c] += (float) (routing.weights()[t * k + j] * y);
                }
            }
        }
        float[] cpu = run.apply(b.cpu);
        String shape = tokens + " tokens, " + numExperts + " experts top-" + k + ", D " + hidden + ", I " + inter;
        // relative norm: h is rounded from f32 on the GPU and from f64 here, so the odd element lands on the other
        // side of a bf16 tie
        GpuReport.check("wgmma MoE medium vs f64 of its rounded inputs", shape, relNormErr(gpu[1], spec),
                TOL_ROUNDED_ATTENTION);
        GpuReport.check("wgmma MoE medium vs CPU", shape, GpuReport.maxRelErr(gpu[1], cpu), TOL_BF16);
        GpuReport.check("wgmma MoE high vs CPU", shape, GpuReport.maxRelErr(gpu[0], cpu), 2e-4);
        checkDiffers("wgmma MoE", shape, GpuReport.maxRelErr(gpu[1], gpu[0]));
    }

    /** Each token on k distinct experts drawn at random, with random weights. */
    MoeRouting randomRouting(int tokens, int numExperts, int k) {
        int[] chosen = new int[tokens * k];
        float[] weights = new float[tokens * k];
        for (int t = 0; t < tokens; t++) {
            int[] pick = rnd.ints(0, numExperts).distinct().limit(k).toArray();
            for (int j = 0; j < k; j++) {
                chosen[t * k + j] = pick[j];
                weights[t * k + j] = (float) rnd.nextDouble();
            }
        }
        return new MoeRouting(tokens, k, chosen, weights);
    }

    /** moeExperts of x [tokens, hidden] onto zeros, on a backend, back on the host. */
    static float[] moeExperts(Backend be, MoeRouting routing, List<ExpertWeights> experts, float[] x, int hidden) {
        int tokens = routing.numTokens();
        Tensor out = b.input(be, tokens, hidden, new float[tokens * hidden]);
        be.moeExperts(b.input(be, tokens, hidden, x), routing, experts, out);
        return be.toHost(out);
    }

    // ---- a whole model ----

    /** The tiny random DeepSeek-V2: prefill of two prompts (cuBLAS GEMMs) and one decode step, medium vs the CPU. */
    @Test
    void tinyModelAgreesWithTheCpuAtBf16Accuracy() {
        ModelConfig config = RandomModels.deepseekConfig(false, false);
        int block = 16;
        try (RandomTensorStore store = new RandomTensorStore(config, 5)) {
            CausalLM gpuModel = new DeepseekV2Model(config, new Weights(store, b.cuda));
            CausalLM cpuModel = new DeepseekV2Model(config, new Weights(store, b.cpu));
            SplittableRandom r = new SplittableRandom(3);
            int[][] prompts = {r.ints(17, 0, config.vocabSize()).toArray(), r.ints(40, 0, config.vocabSize()).toArray()};
            int[][] tables = {{7, 2, 5, 0}, {1, 6, 3, 4}};
            float[][][] logits = new float[3][][];   // high, medium (CUDA), CPU
            int[][] next = new int[3][];
            for (int i = 0; i < 3; i++) {
                CausalLM model = i < 2 ? gpuModel : cpuModel;
                b.cuda.matmulPrecision(i == 1 ? MatmulPrecision.MEDIUM : MatmulPrecision.HIGH);
                try (KvCache cache = model.newKvCache(8, block)) {
                    float[][] prefill = model.forward(ForwardBatch.of(prompts, new int[]{0, 0}, tables, block), cache);
                    next[i] = new int[]{Golden.argmax(prefill[0]), Golden.argmax(prefill[1])};
                    float[][] decode = model.forward(ForwardBatch.of(new int[][]{{next[i][0]}, {next[i][1]}},
                            new int[]{17, 40}, tables, block), cache);
                    logits[i] = new float[][]{prefill[0], prefill[1], decode[0], decode[1]};
                }
            }
            b.cuda.matmulPrecision(MatmulPrecision.HIGH);
            double err = 0;
            double effect = 0;
            for (int s = 0; s < 4; s++) {
                err = Math.max(err, GpuReport.maxRelErr(logits[1][s], logits[2][s]));
                effect = Math.max(effect, GpuReport.maxRelErr(logits[1][s], logits[0][s]));
            }
            String shape = "tiny V2, prefill 17 + 40, one decode step";
            GpuReport.check("model logits medium vs CPU", shape, err, 5e-2);
            int differ = 0;
            for (int s = 0; s < 2; s++) {
                differ += next[1][s] != next[2][s] ? 1 : 0;
                differ += Golden.argmax(logits[1][2 + s]) != Golden.argmax(logits[2][2 + s]) ? 1 : 0;
            }
            GpuReport.checkExact("model argmax medium vs CPU", shape, differ, 4);
            checkDiffers("model logits", shape, effect);
        }
    }
}
