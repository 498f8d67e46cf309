package io.latentserve.cuda.backend;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.ExpertWeights;
import io.latentserve.model.backend.MoeRouting;
import io.latentserve.model.backend.RouterConfig;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.checkpoint.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** MoE routing (greedy, group-limited, normalized or scaled weights), the routed experts and the shared-expert MLP. */
@Tag("gpu")
class CudaMoeGpuTest {
    static GpuBackends b;
    final SplittableRandom rnd = new SplittableRandom(99);

    @BeforeAll
    static void open() {
        b = GpuBackends.open(8, 1, 4);
    }

    @AfterAll
    static void close() {
        if (b != null) {
            b.close();
        }
    }

    void route(int tokens, int hidden, RouterConfig cfg) {
        float[] gateValues = GpuBackends.random(rnd, cfg.numExperts() * hidden, 2.5 / Math.sqrt(hidden));
        Tensor[] gate = b.weight(DType.BF16, cfg.numExperts(), hidden, gateValues);
        float[] x = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        MoeRouting gpu = b.cuda.route(b.input(b.cuda, tokens, hidden, x), gate[0], cfg);
        MoeRouting cpu = b.cpu.route(b.input(b.cpu, tokens, hidden, x), gate[1], cfg);
        int k = cfg.topK();
        int mismatches = 0;
        int nearTies = 0;
        double weightErr = 0;
        double scale = 0;
        for (int t = 0; t < tokens; t++) {
            int[] ge = Arrays.copyOfRange(gpu.experts(), t * k, t * k + k);
            int[] ce = Arrays.copyOfRange(cpu.experts(), t * k, t * k + k);
            int[] gs = ge.clone();
            int[] cs = ce.clone();
            Arrays.sort(gs);
            Arrays.sort(cs);
            if (!Arrays.equals(gs, cs)) {
                if (nearTie(x, gateValues, t, hidden, cfg.numExperts(), ge, ce)) {
                    nearTies++;
                    continue;
                }
                mismatches++;
                System.out.println("token " + t + ": GPU experts " + Arrays.toString(ge) + " vs CPU " + Arrays.toString(ce)
                        + " (weights " + Arrays.toString(Arrays.copyOfRange(gpu.weights(), t * k, t * k + k)) + " / "
                        + Arrays.toString(Arrays.copyOfRange(cpu.weights(), t * k, t * k + k)) + ")");
                continue;
            }
            for (int j = 0; j < k; j++) {
                int cj = indexOf(ce, ge[j]);
                float w = cpu.weights()[t * k + cj];
                scale = Math.max(scale, Math.abs(w));
                weightErr = Math.max(weightErr, Math.abs(gpu.weights()[t * k + j] - w));
            }
        }
        String shape = tokens + " tokens, " + cfg.numExperts() + " experts top-" + k
                + (cfg.groupLimited() ? " groups " + cfg.numGroups() + "/" + cfg.topkGroup() : " greedy")
                + (cfg.normTopkProb() ? " normalized" : " x" + cfg.routedScalingFactor());
        GpuReport.checkExact("ls_moe_route (experts)", shape + (nearTies > 0 ? ", " + nearTies + " near-ties" : ""),
                mismatches, tokens);
        GpuReport.check("ls_moe_route (weights)", shape, scale == 0 ? weightErr : weightErr / scale, 1e-4);
    }

    /**
     * Whether the experts the two backends disagree on score within 1e-5 (relative, exact arithmetic in
     * f64) of each other: a near-tie that f32 rounding order may break either way.
     */
    private static boolean nearTie(float[] x, float[] gate, int t, int hidden, int experts, int[] a, int[] b) {
        double[] logits = new double[experts];
        double max = Double.NEGATIVE_INFINITY;
        for (int e = 0; e < experts; e++) {
            double sum = 0;
            for (int d = 0; d < hidden; d++) {
                sum += (double) x[t * hidden + d] * GpuBackends.roundBf16(gate[e * hidden + d]);
            }
            logits[e] = sum;
            max = Math.max(max, sum);
        }
        double worst = 0;
        for (int ea : a) {
            for (int eb : b) {
                if (indexOf(b, ea) < 0 && indexOf(a, eb) < 0) {
                    worst = Math.max(worst, Math.abs(logits[ea] - logits[eb]));
                }
            }
        }
        boolean tie = worst <= 1e-5 * Math.max(1, Math.abs(max));
        System.out.println("token " + t + ": experts differ by a logit gap of " + worst + (tie ? " (near-tie)" : ""));
        return tie;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void routing() {
        route(1, 64, new RouterConfig(8, 2, false, 1, 1, false, 1f));
        route(37, 2048, new RouterConfig(64, 6, false, 1, 1, false, 1f));
        route(19, 512, new RouterConfig(160, 6, true, 8, 3, false, 16f));
        route(11, 256, new RouterConfig(16, 4, true, 4, 2, true, 2.5f));
        route(300, 128, new RouterConfig(1024, 8, false, 1, 1, true, 1f));
    }

    /** Random experts of the given shape on both backends: [0] CUDA, [1] CPU. */
    List<List<ExpertWeights>> experts(int hidden, int inter, int numExperts) {
        List<List<ExpertWeights>> experts = List.of(new ArrayList<>(), new ArrayList<>());
        for (int e = 0; e < numExperts; e++) {
            Tensor[] g = b.weight(DType.BF16, inter, hidden, GpuBackends.random(rnd, inter * hidden, 1 / Math.sqrt(hidden)));
            Tensor[] u = b.weight(DType.BF16, inter, hidden, GpuBackends.random(rnd, inter * hidden, 1 / Math.sqrt(hidden)));
            Tensor[] d = b.weight(DType.BF16, hidden, inter, GpuBackends.random(rnd, hidden * inter, 1 / Math.sqrt(inter)));
            experts.get(0).add(new ExpertWeights(g[0], u[0], d[0]));
            experts.get(1).add(new ExpertWeights(g[1], u[1], d[1]));
        }
        return experts;
    }

    /** The path the CUDA backend's last MoE call ran (the grouped path falls back when cuBLAS refuses it). */
    static String ranPath() {
        CudaMoePath p = b.cuda.moe.lastPath();
        return switch (p) {
            case FUSED -> "fused";
            case FUSED_TC -> "fused tensor cores";
            case FUSED_WGMMA -> "fused wgmma";
            case GROUPED -> "grouped cuBLAS";
            case PER_EXPERT -> "per-expert cuBLAS" + (b.cuda.moe.groupedUnavailable() == null ? ""
                    : " (grouped unavailable: " + b.cuda.moe.groupedUnavailable() + ")");
            case AUTO -> throw new IllegalStateException("AUTO is not a path that runs");
        };
    }

    /**
     * Both backends run the experts on the same (CPU-made) routing, added onto the same non-zero out.
     * sameExperts: every token on experts 0..k-1 (they get all tokens, the others none).
     */
    void experts(int tokens, int hidden, int inter, int numExperts, int k, boolean sameExperts) {
        List<List<ExpertWeights>> experts = experts(hidden, inter, numExperts);
        MoeRouting routing = routing(tokens, numExperts, k, sameExperts);
        float[] x = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        float[] start = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        float[][] out = new float[2][];
        String ran = null;
        for (int i = 0; i < 2; i++) {
            Backend be = b.backend(i == 0);
            Tensor o = b.input(be, tokens, hidden, start);
            be.moeExperts(b.input(be, tokens, hidden, x), routing, experts.get(i), o);
            out[i] = be.toHost(o);
            ran = i == 0 ? ranPath() : ran;
        }
        GpuReport.check("moe experts (" + ran + ")",
                tokens + " tokens, " + numExperts + " experts top-" + k + (sameExperts ? " all on the same" : "")
                        + ", D " + hidden + ", I " + inter,
                GpuReport.maxRelErr(out[0], out[1]), 2e-4);
    }

    /** A random routing (distinct experts per token); sameExperts: every token on experts 0..k-1. */
    MoeRouting routing(int tokens, int numExperts, int k, boolean sameExperts) {
        int[] chosen = new int[tokens * k];
        float[] weights = new float[tokens * k];
        for (int t = 0; t < tokens; t++) {
            int[] perm = sameExperts ? java.util.stream.IntStream.range(0, k).map(j -> k - 1 - j).toArray()
                    : rnd.ints(0, numExperts).distinct().limit(k).toArray();
            for (int j = 0; j < k; j++) {
                chosen[t * k + j] = perm[j];
                weights[t * k + j] = (float) rnd.nextDouble();
            }
        }
        return new MoeRouting(tokens, k, chosen, weights);
    }

    /**
     * The fused path with its expert products on tensor cores (ls_moe_gate_up_tc, ls_moe_down_tc) and on CUDA
     * cores (ls_moe_gate_up, ls_moe_down), forced on the same routing and inputs: each against the CPU backend,
     * and the two against each other (x split into bf16 hi + lo on tensor cores: within ~1e-5 of f32).
     */
    void fusedBothWays(int tokens, int hidden, int inter, int numExperts, int k, boolean sameExperts) {
        List<List<ExpertWeights>> experts = experts(hidden, inter, numExperts);
        MoeRouting routing = routing(tokens, numExperts, k, sameExperts);
        float[] x = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        float[] start = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        Tensor oc = b.input(b.cpu, tokens, hidden, start);
        b.cpu.moeExperts(b.input(b.cpu, tokens, hidden, x), routing, experts.get(1), oc);
        float[] cpu = b.cpu.toHost(oc);
        float[][] gpu = new float[2][];
        CudaMoePath[] paths = {CudaMoePath.FUSED_TC, CudaMoePath.FUSED};
        String shape = tokens + " tokens, " + numExperts + " experts top-" + k + (sameExperts ? " all on the same" : "")
                + ", D " + hidden + ", I " + inter;
        for (int i = 0; i < 2; i++) {
            Tensor o = b.input(b.cuda, tokens, hidden, start);
            b.cuda.moe.experts(CudaActivation.of(b.input(b.cuda, tokens, hidden, x), "x"), routing, experts.get(0),
                    CudaActivation.of(o, "out"), paths[i]);
            assertEquals(paths[i], b.cuda.moe.lastPath(), "the forced path runs");
            gpu[i] = b.cuda.toHost(o);
            GpuReport.check("moe experts (" + ranPath() + ") vs CPU", shape, GpuReport.maxRelErr(gpu[i], cpu), 2e-4);
        }
        GpuReport.check("moe experts: tensor cores vs CUDA cores", shape, GpuReport.maxRelErr(gpu[0], gpu[1]), 2e-5);
    }

    /** Tensor-core fused kernels at 1..256 tokens, widths 16 mod 32 (their half step), skew, V2-Lite's widths. */
    @Test
    void tensorCoreExperts() {
        fusedBothWays(1, 64, 32, 8, 2, false);
        fusedBothWays(7, 48, 80, 8, 2, false);     // widths 16 mod 32: the last step of 16 values
        fusedBothWays(64, 128, 96, 16, 6, false);
        fusedBothWays(256, 64, 32, 64, 6, true);   // 6 experts hold all 256 tokens: passes of 32 tokens
        fusedBothWays(1, 2048, 1408, 8, 2, false); // DeepSeek-V2-Lite's widths
    }

    /** Whether the device runs the sm_90a wgmma kernels (compute capability 9.0; the emulation's fake device does). */
    static boolean wgmmaDevice() {
        return wgmmaDevice(b);
    }

    static boolean wgmmaDevice(GpuBackends backends) {
        return backends.cuda.moe.device().computeMajor() == 9 && backends.cuda.moe.device().computeMinor() == 0;
    }

    /**
     * The Hopper path (ls_moe_gate_up_wgmma, ls_moe_down_wgmma: 128-row tiles, two wgmma warpgroups fed by a
     * producer warpgroup) forced on a routing, against the CPU backend and against the mma.sync tensor-core kernels on
     * the same inputs (both split x into bf16 hi + lo).
     */
    void wgmmaVsTensorCores(String what, int hidden, int inter, int numExperts, MoeRouting routing) {
        int tokens = routing.numTokens();
        List<List<ExpertWeights>> experts = experts(hidden, inter, numExperts);
        float[] x = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        float[] start = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        Tensor oc = b.input(b.cpu, tokens, hidden, start);
        b.cpu.moeExperts(b.input(b.cpu, tokens, hidden, x), routing, experts.get(1), oc);
        float[] cpu = b.cpu.toHost(oc);
        CudaMoePath[] paths = {CudaMoePath.FUSED_WGMMA, CudaMoePath.FUSED_TC};
        float[][] gpu = new float[2][];
        String shape = tokens + " tokens, " + what + ", D " + hidden + ", I " + inter;
        for (int i = 0; i < 2; i++) {
            Tensor o = b.input(b.cuda, tokens, hidden, start);
            b.cuda.moe.experts(CudaActivation.of(b.input(b.cuda, tokens, hidden, x), "x"), routing, experts.get(0),
                    CudaActivation.of(o, "out"), paths[i]);
            assertEquals(paths[i], b.cuda.moe.lastPath(), "the forced path runs");
            gpu[i] = b.cuda.toHost(o);
            GpuReport.check("moe experts (" + ranPath() + ") vs CPU", shape, GpuReport.maxRelErr(gpu[i], cpu), 2e-4);
        }
        GpuReport.check("moe experts: wgmma vs mma.sync tensor cores", shape, GpuReport.maxRelErr(gpu[0], gpu[1]), 2e-5);
    }

    /** Tokens 0..399 each on expert 5 and one other, so the 7 experts hold 0, 1, 127, 128, 129, 400 and 15 rows. */
    MoeRouting tileEdgeRouting() {
        int[] counts = {0, 1, 127, 128, 129, 400, 15};
        List<Integer> others = new ArrayList<>();
        for (int e = 0; e < counts.length; e++) {
            for (int i = 0; e != 5 && i < counts[e]; i++) {
                others.add(e);
            }
        }
        java.util.Collections.shuffle(others, new java.util.Random(rnd.nextLong()));
        int[] chosen = new int[800];
        float[] weights = new float[800];
        for (int t = 0; t < 400; t++) {
            boolean swap = rnd.nextBoolean();
            chosen[2 * t + (swap ? 1 : 0)] = 5;
            chosen[2 * t + (swap ? 0 : 1)] = others.get(t);
            weights[2 * t] = (float) rnd.nextDouble();
            weights[2 * t + 1] = (float) rnd.nextDouble();
        }
        return new MoeRouting(400, 2, chosen, weights);
    }

    /** The Hopper kernels where the device has them: m-tile edges, widths 16 mod 64, two feature tiles each. */
    @Tag("mbarrier")
    @Test
    void wgmmaExperts() {
        if (!wgmmaDevice()) {
            System.out.println("SKIPPED wgmma experts: " + b.cuda.moe.device() + " is not compute capability 9.0");
            return;
        }
        try {
            for (boolean tma : new boolean[]{true, false}) {   // weight tiles by TMA (the default), then by cp.async
                b.cuda.moe.wgmmaTma(tma);
                wgmmaVsTensorCores("7 experts of 0/1/127/128/129/400/15 rows", 48, 80, 7, tileEdgeRouting());
                assertEquals(tma, b.cuda.moe.lastWgmmaTma(), "weight tiles by TMA " + tma);
                wgmmaVsTensorCores("16 experts top-6 random", 272, 160, 16, routing(40, 16, 6, false));
            }
        } finally {
            b.cuda.moe.wgmmaTma(CudaFusedMoe.WGMMA_TMA);
        }
    }

    /**
     * -Dlatentserve.cuda.moeWgmma=true (here set on the instance): AUTO gives batches above the fused threshold to the
     * wgmma kernels on a compute capability 9.0 device, keeps them on grouped / per-expert cuBLAS elsewhere or when
     * off, and leaves batches up to the threshold on the decode kernels.
     */
    @Tag("mbarrier")
    @Test
    void wgmmaOnlyWhenSwitchedOn() {
        List<List<ExpertWeights>> experts = experts(64, 32, 8);
        MoeRouting routing = routing(20, 8, 2, false);
        CudaActivation x = CudaActivation.of(b.input(b.cuda, 20, 64, GpuBackends.gaussian(rnd, 20 * 64, 1)), "x");
        Tensor o = b.cuda.activation(20, 64);
        try {
            b.cuda.moe.fusedMaxTokens(8);
            b.cuda.moe.experts(x, routing, experts.get(0), CudaActivation.of(o, "out"), CudaMoePath.AUTO);
            assertTrue(b.cuda.moe.lastPath() != CudaMoePath.FUSED_WGMMA, "off by default: " + b.cuda.moe.lastPath());
            b.cuda.moe.wgmmaAuto(true);
            b.cuda.moe.experts(x, routing, experts.get(0), CudaActivation.of(o, "out"), CudaMoePath.AUTO);
            assertEquals(wgmmaDevice(), b.cuda.moe.lastPath() == CudaMoePath.FUSED_WGMMA, "ran " + ranPath());
            b.cuda.moe.fusedMaxTokens(CudaMoe.DEFAULT_FUSED_MAX_TOKENS);
            b.cuda.moe.experts(x, routing, experts.get(0), CudaActivation.of(o, "out"), CudaMoePath.AUTO);
            assertEquals(CudaMoePath.FUSED_TC, b.cuda.moe.lastPath(), "decode-sized batches keep the mma.sync kernels");
        } finally {
            b.cuda.moe.wgmmaAuto(CudaFusedMoe.WGMMA);
            b.cuda.moe.fusedMaxTokens(CudaMoe.DEFAULT_FUSED_MAX_TOKENS);
        }
    }

    /** The tensor-core path refuses experts it cannot take; AUTO then runs the CUDA-core kernels. */
    @Test
    void tensorCoresOnlyWhereTheyApply() {
        List<List<ExpertWeights>> experts = experts(40, 24, 4); // multiples of 8, not of 16
        MoeRouting routing = routing(3, 4, 2, false);
        Tensor o = b.cuda.activation(3, 40);
        CudaActivation x = CudaActivation.of(b.input(b.cuda, 3, 40, GpuBackends.gaussian(rnd, 3 * 40, 1)), "x");
        assertThrows(IllegalArgumentException.class, () -> b.cuda.moe.experts(x,
                routing, experts.get(0), CudaActivation.of(o, "out"), CudaMoePath.FUSED_TC));
        b.cuda.moe.experts(x, routing, experts.get(0), CudaActivation.of(o, "out"), CudaMoePath.AUTO);
        assertEquals(CudaMoePath.FUSED, b.cuda.moe.lastPath());
    }

    @Test
    void routedExperts() {
        experts(1, 64, 32, 8, 2, false);
        experts(13, 257, 33, 8, 3, false);   // widths not multiples of 8: the cuBLAS path
        experts(40, 2048, 1408, 64, 6, false);
        experts(7, 1024, 96, 160, 6, false); // most experts without a token
        experts(256, 128, 64, 64, 6, true);  // 6 experts hold all 256 tokens, 58 none
        experts(300, 64, 32, 8, 2, false);   // above the fused path's batch limit: grouped cuBLAS GEMMs
    }

    /**
     * Backend.moe end to end (router GEMM, ls_moe_route, then the experts: on the CUDA backend without a
     * host round trip for decode-sized batches) against the CPU backend's route + moeExperts. Tokens whose
     * expert sets the two routings disagree on (near-ties, see route()) are left out of the comparison.
     */
    void moe(int tokens, int hidden, int inter, RouterConfig cfg) {
        List<List<ExpertWeights>> experts = experts(hidden, inter, cfg.numExperts());
        Tensor[] gate = b.weight(DType.BF16, cfg.numExperts(), hidden,
                GpuBackends.random(rnd, cfg.numExperts() * hidden, 2.5 / Math.sqrt(hidden)));
        float[] x = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        float[] start = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        float[][] out = new float[2][];
        MoeRouting[] routing = new MoeRouting[2];
        String ran = null;
        for (int i = 0; i < 2; i++) {
            Backend be = b.backend(i == 0);
            Tensor xi = b.input(be, tokens, hidden, x);
            routing[i] = be.route(xi, gate[i], cfg);
            Tensor o = b.input(be, tokens, hidden, start);
            be.moe(xi, gate[i], cfg, experts.get(i), o);
            out[i] = be.toHost(o);
            ran = i == 0 ? ranPath() : ran;
        }
        int k = cfg.topK();
        int skipped = leaveOutDisagreements(routing, hidden, out);
        String shape = tokens + " tokens, " + cfg.numExperts() + " experts top-" + k
                + (cfg.groupLimited() ? " groups " + cfg.numGroups() + "/" + cfg.topkGroup() : " greedy")
                + ", D " + hidden + ", I " + inter + (skipped > 0 ? ", " + skipped + " near-tie tokens left out" : "");
        GpuReport.checkExact("moe: routings differ", shape, skipped > tokens / 50 ? skipped : 0, tokens);
        GpuReport.check("moe (route + " + ran + ")", shape,
                GpuReport.maxRelErr(out[0], out[1]), 2e-4);
    }

    /**
     * Zeroes, in every output, the rows of the tokens whose expert sets the routings disagree on (near-ties, see
     * route()); returns how many.
     */
    static int leaveOutDisagreements(MoeRouting[] routing, int hidden, float[]... out) {
        int k = routing[0].topK();
        int skipped = 0;
        for (int t = 0; t < routing[0].numTokens(); t++) {
            int[] ge = Arrays.copyOfRange(routing[0].experts(), t * k, t * k + k);
            int[] ce = Arrays.copyOfRange(routing[1].experts(), t * k, t * k + k);
            Arrays.sort(ge);
            Arrays.sort(ce);
            if (!Arrays.equals(ge, ce)) {
                skipped++;
                for (float[] o : out) {
                    Arrays.fill(o, t * hidden, (t + 1) * hidden, 0f);
                }
            }
        }
        return skipped;
    }

    @Test
    void moeEndToEnd() {
        moe(1, 64, 32, new RouterConfig(8, 2, false, 1, 1, false, 1f));
        moe(7, 256, 96, new RouterConfig(64, 6, false, 1, 1, false, 1f));
        moe(64, 512, 128, new RouterConfig(160, 6, true, 8, 3, false, 16f));
        moe(256, 128, 64, new RouterConfig(64, 6, false, 1, 1, true, 1f));
        moe(300, 64, 32, new RouterConfig(8, 2, false, 1, 1, false, 1f)); // above the limit: route + grouped GEMMs
    }

    /**
     * The grouped path (cublasGemmGroupedBatchedEx) at small shapes: the fused path's threshold lowered to 0 so
     * every batch takes it. Odd widths, experts without tokens, one expert with all of them, 1..300 tokens.
     */
    @Test
    void groupedExperts() {
        b.cuda.moe.fusedMaxTokens(0);
        try {
            experts(1, 64, 32, 8, 2, false);     // 2 groups of one row each
            experts(13, 257, 33, 8, 3, false);   // widths no multiple of 8 (unaligned rows)
            experts(37, 128, 96, 64, 6, false);  // many of the 64 experts without a token
            experts(256, 136, 64, 64, 6, true);  // 6 experts hold all tokens, 58 none
            experts(300, 96, 48, 8, 2, false);
            experts(300, 64, 40, 64, 6, false);
            moe(1, 64, 32, new RouterConfig(8, 2, false, 1, 1, false, 1f));
            moe(7, 256, 96, new RouterConfig(64, 6, false, 1, 1, false, 1f));
            moe(120, 200, 56, new RouterConfig(64, 6, true, 8, 3, false, 16f));
            moe(300, 64, 32, new RouterConfig(8, 2, false, 1, 1, true, 1f));
        } finally {
            b.cuda.moe.fusedMaxTokens(CudaMoe.DEFAULT_FUSED_MAX_TOKENS);
        }
    }

    /** Each path forced on the same small batch agrees with the CPU backend (what the benchmark relies on). */
    @Tag("mbarrier")
    @Test
    void forcedPaths() {
        for (CudaMoePath p : CudaMoePath.values()) {
            List<List<ExpertWeights>> experts = experts(64, 32, 8);
            RouterConfig cfg = new RouterConfig(8, 2, false, 1, 1, false, 1f);
            Tensor[] gate = b.weight(DType.BF16, 8, 64, GpuBackends.random(rnd, 8 * 64, 2.5 / Math.sqrt(64)));
            float[] x = GpuBackends.gaussian(rnd, 20 * 64, 1);
            Tensor o = b.cuda.activation(20, 64);
            if (p == CudaMoePath.FUSED_WGMMA && !wgmmaDevice()) {
                assertThrows(IllegalArgumentException.class, () -> b.cuda.moe(b.input(b.cuda, 20, 64, x), gate[0], cfg,
                        experts.get(0), o, p), "sm_90a code only on compute capability 9.0");
                continue;
            }
            b.cuda.moe(b.input(b.cuda, 20, 64, x), gate[0], cfg, experts.get(0), o, p);
            String ran = ranPath();
            Tensor oc = b.cpu.activation(20, 64);
            Tensor xc = b.input(b.cpu, 20, 64, x);
            b.cpu.moe(xc, gate[1], cfg, experts.get(1), oc);
            GpuReport.check("moe forced " + p + " (" + ran + ")", "20 tokens, 8 experts top-2, D 64, I 32",
                    GpuReport.maxRelErr(b.cuda.toHost(o), b.cpu.toHost(oc)), 2e-4);
        }
    }

    /** DeepSeek-V2-Lite's expert shapes above the fused threshold (AUTO: grouped GEMMs); slow under the emulator. */
    @Test
    void groupedV2LiteSized() {
        experts(320, 2048, 1408, 64, 6, false);
        moe(300, 2048, 1408, new RouterConfig(64, 6, false, 1, 1, false, 1f));
    }

    /** A random shared-experts MLP of width {@code width} on both backends: [0] CUDA, [1] CPU. */
    ExpertWeights[] sharedMlp(DType dtype, int hidden, int width) {
        Tensor[] g = b.weight(dtype, width, hidden, GpuBackends.random(rnd, width * hidden, 1 / Math.sqrt(hidden)));
        Tensor[] u = b.weight(dtype, width, hidden, GpuBackends.random(rnd, width * hidden, 1 / Math.sqrt(hidden)));
        Tensor[] d = b.weight(dtype, hidden, width, GpuBackends.random(rnd, hidden * width, 1 / Math.sqrt(width)));
        return new ExpertWeights[]{new ExpertWeights(g[0], u[0], d[0]), new ExpertWeights(g[1], u[1], d[1])};
    }

    /**
     * The whole MoE layer with S shared experts (one MLP of width S·inter) on the CUDA backend, each of the given
     * paths forced (folded into the fused launches when {@code fold} and the path takes them), against the CPU
     * backend's shared MLP + routed experts; out starts at zero as in the model. Returns the CUDA outputs.
     */
    float[][] sharedLayer(int tokens, int hidden, int inter, int numShared, DType sharedType, RouterConfig cfg,
                          boolean fold, boolean expectFolded, CudaMoePath... paths) {
        List<List<ExpertWeights>> experts = experts(hidden, inter, cfg.numExperts());
        ExpertWeights[] shared = sharedMlp(sharedType, hidden, numShared * inter);
        Tensor[] gate = b.weight(DType.BF16, cfg.numExperts(), hidden,
                GpuBackends.random(rnd, cfg.numExperts() * hidden, 2.5 / Math.sqrt(hidden)));
        float[] x = GpuBackends.gaussian(rnd, tokens * hidden, 1);
        Tensor xc = b.input(b.cpu, tokens, hidden, x);
        Tensor oc = b.cpu.activation(tokens, hidden);
        b.cpu.moe(xc, gate[1], cfg, experts.get(1), shared[1], oc);
        MoeRouting cpuRouting = b.cpu.route(xc, gate[1], cfg);
        float[][] gpu = new float[paths.length][];
        String shape = tokens + " tokens, " + cfg.numExperts() + " experts top-" + cfg.topK() + " + " + numShared
                + " shared" + (sharedType == DType.BF16 ? "" : " (" + sharedType + ")") + ", D " + hidden + ", I " + inter;
        for (int i = 0; i < paths.length; i++) {
            Tensor xg = b.input(b.cuda, tokens, hidden, x);
            Tensor o = b.cuda.activation(tokens, hidden);
            b.cuda.moe(xg, gate[0], cfg, experts.get(0), shared[0], o, paths[i], fold);
            if (paths[i] != CudaMoePath.AUTO) {
                assertEquals(paths[i], b.cuda.moe.lastPath(), "the forced path runs");
            }
            assertEquals(expectFolded, b.cuda.moe.lastFoldedShared(), "shared experts folded into the fused launches");
            String ran = ranPath() + (b.cuda.moe.lastFoldedShared() ? ", shared folded" : ", shared MLP first");
            gpu[i] = b.cuda.toHost(o);
            float[] cpu = b.cpu.toHost(oc);
            int skipped = leaveOutDisagreements(new MoeRouting[]{b.cuda.route(xg, gate[0], cfg), cpuRouting}, hidden,
                    gpu[i], cpu);
            GpuReport.checkExact("moe + shared: routings differ", shape, skipped > tokens / 50 ? skipped : 0, tokens);
            GpuReport.check("moe + shared experts (" + ran + ") vs CPU", shape, GpuReport.maxRelErr(gpu[i], cpu), 2e-4);
        }
        return gpu;
    }

    /**
     * Shared experts folded into the fused path, tensor-core and CUDA-core kernels, S = 1 and 2, 1 to 64 tokens,
     * against the CPU backend's shared MLP + routed experts, and the two kernel pairs against each other.
     */
    @Test
    void sharedExpertsFolded() {
        RouterConfig small = new RouterConfig(8, 2, false, 1, 1, false, 1f);
        RouterConfig scaled = new RouterConfig(16, 6, true, 4, 2, false, 16f); // routed weights scaled, shared not
        Object[][] cases = {{1, 64, 32, 1, small}, {1, 64, 32, 2, small}, {7, 48, 80, 2, small}, {7, 64, 32, 1, scaled},
                {64, 128, 32, 2, scaled}, {64, 64, 48, 1, small}};
        for (Object[] c : cases) {
            int tokens = (int) c[0];
            float[][] gpu = sharedLayer(tokens, (int) c[1], (int) c[2], (int) c[3], DType.BF16, (RouterConfig) c[4],
                    true, true, CudaMoePath.FUSED_TC, CudaMoePath.FUSED);
            GpuReport.check("moe + shared folded: tensor cores vs CUDA cores", tokens + " tokens, D " + c[1] + ", I "
                    + c[2] + ", S " + c[3], GpuReport.maxRelErr(gpu[0], gpu[1]), 2e-5);
        }
    }

    /**
     * Where the fused path does not take the call the shared MLP runs first, as the default does: folding turned
     * off, a shared MLP of another dtype, widths the tensor-core kernels refuse (CUDA cores fold them), a batch
     * above the fused path's limit (grouped or per-expert GEMMs).
     */
    @Test
    void sharedExpertsNotFolded() {
        RouterConfig cfg = new RouterConfig(8, 2, false, 1, 1, false, 1f);
        sharedLayer(7, 64, 32, 2, DType.BF16, cfg, false, false, CudaMoePath.AUTO, CudaMoePath.FUSED);
        sharedLayer(7, 64, 32, 2, DType.F32, cfg, true, false, CudaMoePath.AUTO);
        sharedLayer(3, 40, 24, 2, DType.BF16, cfg, true, true, CudaMoePath.AUTO); // multiples of 8, not of 16
        assertEquals(CudaMoePath.FUSED, b.cuda.moe.lastPath());
        b.cuda.moe.fusedMaxTokens(4);
        try {
            sharedLayer(7, 64, 32, 1, DType.BF16, cfg, true, false, CudaMoePath.AUTO);
        } finally {
            b.cuda.moe.fusedMaxTokens(CudaMoe.DEFAULT_FUSED_MAX_TOKENS);
        }
    }

    @Test
    void sharedExpertsMlp() {
        int[][] shapes = {{1, 64, 64}, {9, 2048, 2816}, {3, 5120, 3072}};
        for (int[] s : shapes) {
            int tokens = s[0];
            int hidden = s[1];
            int inter = s[2];
            Tensor[] g = b.weight(DType.BF16, inter, hidden, GpuBackends.random(rnd, inter * hidden, 1 / Math.sqrt(hidden)));
            Tensor[] u = b.weight(DType.BF16, inter, hidden, GpuBackends.random(rnd, inter * hidden, 1 / Math.sqrt(hidden)));
            Tensor[] d = b.weight(DType.BF16, hidden, inter, GpuBackends.random(rnd, hidden * inter, 1 / Math.sqrt(inter)));
            float[] x = GpuBackends.gaussian(rnd, tokens * hidden, 1);
            float[][] out = new float[2][];
            for (int i = 0; i < 2; i++) {
                Backend be = b.backend(i == 0);
                Tensor xi = b.input(be, tokens, hidden, x);
                Tensor gate = be.activation(tokens, inter);
                Tensor up = be.activation(tokens, inter);
                be.matmul(xi, g[i], gate);
                be.matmul(xi, u[i], up);
                be.siluMul(gate, up, gate);
                Tensor o = be.activation(tokens, hidden);
                be.matmul(gate, d[i], o);
                out[i] = be.toHost(o);
            }
            GpuReport.check("shared experts (MLP)", tokens + " tokens, D " + hidden + ", S*Im " + inter,
                    GpuReport.maxRelErr(out[0], out[1]), 2e-4);
        }
    }
}
