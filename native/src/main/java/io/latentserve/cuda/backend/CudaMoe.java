package io.latentserve.cuda.backend;

import io.latentserve.cuda.driver.DeviceInfo;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.MoeRouteParams;
import io.latentserve.model.backend.ExpertWeights;
import io.latentserve.model.backend.MatmulPrecision;
import io.latentserve.model.backend.MoeRouting;
import io.latentserve.model.backend.RouterConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Optional;

/**
 * DeepSeek-V2 MoE on the device: router logits by cuBLAS, routing by ls_moe_route, then the experts.
 * Decode-sized batches (at most {@link CudaFusedMoe#MAX_TOKENS} tokens, experts the fused kernels take) stay
 * on the device: {@link #moe} never copies the routing to the host, and the experts run in the few launches
 * of {@link CudaFusedMoe} (on tensor cores where {@link CudaFusedMoe#tensorCores} says so). Larger batches (above
 * -Dlatentserve.cuda.fusedMoeMaxTokens) run the experts' SwiGLU MLPs as two grouped cuBLAS GEMMs over rows
 * gathered by expert ({@link CudaGroupedMoe}), with one sync for the per-expert counts; without
 * cublasGemmGroupedBatchedEx, per expert as cuBLAS GEMMs over the rows gathered for it on the host's sort of the
 * routing, then one weighted combine ({@link CudaPerExpertMoe}). {@link CudaMoePath} forces a path per call.
 * With -Dlatentserve.cuda.moeWgmma=true, batches above the threshold run on Hopper wgmma kernels instead
 * ({@link CudaMoePath#FUSED_WGMMA}: the fused path's sorted layout and launches, 128-row tiles; compute capability
 * 9.0 only). A layer's shared experts ride along in the fused path's launches ({@link #moeFolded}: S slices of the shared MLP
 * as S more experts every token takes with weight 1); every other path leaves them to the caller's dense MLP.
 */
final class CudaMoe {
    /** The routing on the device: experts [T, K] int32 and weights [T, K] f32 in scratch memory. */
    private record DeviceRouting(long experts, long weights) {
    }

    /** The default largest batch of the fused path (AUTO); the team tunes it from measurements. */
    static final int DEFAULT_FUSED_MAX_TOKENS =
            Integer.getInteger("latentserve.cuda.fusedMoeMaxTokens", CudaFusedMoe.MAX_TOKENS);

    /**
     * Whether the fused path takes a layer's shared experts into its launches (-Dlatentserve.cuda.foldSharedExperts,
     * default true; false runs them as a dense MLP before the routed experts, as on every other path).
     */
    static final boolean FOLD_SHARED = Boolean.parseBoolean(System.getProperty("latentserve.cuda.foldSharedExperts",
            "true"));

    /**
     * The largest batch whose shared experts the server folds (-Dlatentserve.cuda.foldSharedMaxTokens, default 32).
     * Every token takes every shared slice: up to 32 rows the tensor-core kernels read a slice once, above that
     * they walk it again (from L2) for each further 32 rows, where the dense MLP's GEMMs take all rows in one
     * pass. Unmeasured: the device bench's "shared folded" vs "shared MLP first" rows are what should set it.
     */
    static final int FOLD_SHARED_MAX_TOKENS = Integer.getInteger("latentserve.cuda.foldSharedMaxTokens", 32);

    /** Whether the server folds the shared experts of a batch of this many rows (see {@link #moeFolded}). */
    static boolean foldShared(int tokens) {
        return FOLD_SHARED && tokens <= FOLD_SHARED_MAX_TOKENS;
    }

    /** What the fused kernels take, for error messages. */
    private static final String FUSED_TAKES = "bf16/f32 of one shape, widths multiples of " + CudaExpertTables.VECTOR
            + ", at most " + KernelLimits.MOE_MAX_EXPERTS + " experts";

    private final Kernels kernels;
    private final StepMemory memory;
    private final Gemm gemm;
    private final CudaExpertTables tables;
    private final CudaFusedMoe fused;
    private final CudaGroupedMoe grouped;
    private final CudaPerExpertMoe perExpert;
    private int fusedMaxTokens = DEFAULT_FUSED_MAX_TOKENS;
    /** Whether AUTO gives batches above fusedMaxTokens to the wgmma kernels where they apply. */
    private boolean wgmmaAuto = CudaFusedMoe.WGMMA;
    /** The path the last call ran (tests report it). */
    private CudaMoePath lastPath;
    /** Whether the last call folded shared experts into the fused path. */
    private boolean lastFoldedShared;

    CudaMoe(Kernels kernels, StepMemory memory, Gemm gemm) {
        this.kernels = kernels;
        this.memory = memory;
        this.gemm = gemm;
        this.tables = new CudaExpertTables(kernels.ctx());
        this.fused = new CudaFusedMoe(kernels, memory);
        this.grouped = new CudaGroupedMoe(kernels.ctx(), kernels, memory);
        this.perExpert = new CudaPerExpertMoe(kernels, memory, gemm);
    }

    /** Largest batch AUTO gives the fused kernels (tests lower it to reach the other paths with small shapes). */
    void fusedMaxTokens(int tokens) {
        if (tokens < 0) {
            throw new IllegalArgumentException("fusedMaxTokens " + tokens);
        }
        fusedMaxTokens = tokens;
    }

    /** Whether AUTO uses the wgmma kernels above fusedMaxTokens (default -Dlatentserve.cuda.moeWgmma; tests set it). */
    void wgmmaAuto(boolean on) {
        wgmmaAuto = on;
    }

    /** Whether the wgmma kernels take weight tiles by TMA (default -Dlatentserve.cuda.moeWgmmaTma; tests set it). */
    void wgmmaTma(boolean on) {
        fused.wgmmaTma(on);
    }

    /** Whether the last wgmma launch took its weight tiles by TMA. */
    boolean lastWgmmaTma() {
        return fused.lastWgmmaTma();
    }

    CudaMoePath lastPath() {
        return lastPath;
    }

    boolean lastFoldedShared() {
        return lastFoldedShared;
    }

    /** The device the kernels run on (its compute capability decides whether FUSED_WGMMA can run). */
    DeviceInfo device() {
        return kernels.ctx().device();
    }

    /** Why the grouped path is unavailable, or null when it is available. */
    String groupedUnavailable() {
        return grouped.unavailableReason();
    }

    /** out += Σ_k w_k · expert_k(x), routed by the gate; without a host round trip for decode-sized batches. */
    void moe(CudaActivation x, CudaWeight gate, RouterConfig cfg, List<ExpertWeights> experts, CudaActivation out) {
        moe(x, gate, cfg, experts, out, CudaMoePath.AUTO);
    }

    void moe(CudaActivation x, CudaWeight gate, RouterConfig cfg, List<ExpertWeights> experts, CudaActivation out,
             CudaMoePath requested) {
        lastFoldedShared = false;
        if (experts.size() != cfg.numExperts() || out.rows() != x.rows() || out.cols() != x.cols() || x.rows() == 0) {
            experts(x, route(x, gate, cfg), experts, out, requested); // checks the routing on the host
            return;
        }
        checkRouting(x, gate, cfg);
        Plan plan = plan(requested, x, experts);
        if (plan.path() != CudaMoePath.PER_EXPERT) {
            try (StepMemory.Scratch s = memory.scratch()) {
                DeviceRouting r = routeOnDevice(s, x, gate, cfg);
                if (runOnDevice(plan, s, x, r.experts(), r.weights(), cfg.topK(), out)) {
                    return;
                }
            }
        }
        experts(x, route(x, gate, cfg), experts, out, CudaMoePath.PER_EXPERT);
    }

    /**
     * out += Shared(x) + Σ_k w_k · expert_k(x) in the fused path's launches, the shared MLP ([S·I, D] gate and up,
     * [D, S·I] down) folded in as S more experts of width I, when the fused path takes this call (the plan for
     * {@code requested} is FUSED or FUSED_TC, and the shared MLP splits into slices of the experts' dtype and width:
     * {@link CudaExpertTables#of(List, ExpertWeights, int)}). Otherwise false, having run nothing: the caller runs the
     * shared MLP and then {@link #moe}.
     */
    boolean moeFolded(CudaActivation x, CudaWeight gate, RouterConfig cfg, List<ExpertWeights> experts,
                      ExpertWeights shared, CudaActivation out, CudaMoePath requested) {
        if (experts.size() != cfg.numExperts() || out.rows() != x.rows() || out.cols() != x.cols() || x.rows() == 0) {
            return false; // moe() reports what is wrong
        }
        checkRouting(x, gate, cfg);
        Plan plan = plan(requested, x, experts);
        if (!fusedPath(plan.path())) {
            return false;
        }
        Optional<CudaExpertTables.Table> folded = tables.of(experts, shared, x.cols());
        if (folded.isEmpty()) {
            return false;
        }
        try (StepMemory.Scratch s = memory.scratch()) {
            DeviceRouting r = routeOnDevice(s, x, gate, cfg);
            fused.run(s, x, r.experts(), r.weights(), cfg.topK(), folded.get(), plan.path(), gemm.splits(), out);
        }
        lastPath = plan.path();
        lastFoldedShared = true;
        return true;
    }

    /** The path a call takes and what it needs: the fused kernels' table or the grouped GEMMs' addresses. */
    private record Plan(CudaMoePath path, CudaExpertTables.Table table, CudaGroupedMoe.Experts groupedExperts) {
    }

    private Plan plan(CudaMoePath requested, CudaActivation x, List<ExpertWeights> experts) {
        Optional<CudaExpertTables.Table> table = fusedTable(x, experts);
        Optional<CudaGroupedMoe.Experts> g = grouped.available() && x.rows() > 0
                ? CudaGroupedMoe.Experts.of(experts, x.cols()) : Optional.empty();
        Optional<CudaExpertTables.Table> wgmma = table.filter(tb -> CudaFusedMoe.wgmmaApplies(tb, kernels.ctx().device()));
        return switch (requested) {
            case AUTO -> x.rows() <= fusedMaxTokens && table.isPresent()
                    ? new Plan(CudaFusedMoe.tensorCores(table.get()) ? CudaMoePath.FUSED_TC : CudaMoePath.FUSED,
                    table.get(), null)
                    : wgmmaAuto && wgmma.isPresent() ? new Plan(CudaMoePath.FUSED_WGMMA, wgmma.get(), null)
                    : g.map(ge -> new Plan(CudaMoePath.GROUPED, null, ge))
                    .orElseGet(() -> new Plan(CudaMoePath.PER_EXPERT, null, null));
            case FUSED -> new Plan(CudaMoePath.FUSED, table.orElseThrow(() -> new IllegalArgumentException(
                    "the fused MoE kernels do not take these experts (" + FUSED_TAKES + ")")), null);
            case FUSED_TC -> new Plan(CudaMoePath.FUSED_TC, table.filter(CudaFusedMoe::tensorCoresApply)
                    .orElseThrow(() -> new IllegalArgumentException("the tensor-core MoE kernels do not take these "
                            + "experts (" + FUSED_TAKES + "; bf16 only, widths multiples of " + KernelLimits.MOE_TC_K
                            + ")")), null);
            case FUSED_WGMMA -> new Plan(CudaMoePath.FUSED_WGMMA, wgmma.orElseThrow(() -> new IllegalArgumentException(
                    "the wgmma MoE kernels do not take these experts on " + kernels.ctx().device() + " (compute "
                            + "capability 9.0 only; " + FUSED_TAKES + "; bf16 only, widths multiples of "
                            + KernelLimits.MOE_TC_K + ")")), null);
            case GROUPED -> new Plan(CudaMoePath.GROUPED, null, g.orElseThrow(() -> new IllegalArgumentException(
                    "grouped MoE GEMMs unavailable: " + (grouped.available()
                            ? "the experts are not bf16 weights of one shape" : grouped.unavailableReason()))));
            case PER_EXPERT -> new Plan(CudaMoePath.PER_EXPERT, null, null);
        };
    }

    /** The fused or grouped path on a routing already on the device; false when the grouped GEMM was refused. */
    private boolean runOnDevice(Plan plan, StepMemory.Scratch s, CudaActivation x, long ids, long weights, int topK,
                                CudaActivation out) {
        if (fusedPath(plan.path())) {
            fused.run(s, x, ids, weights, topK, plan.table(), plan.path(), gemm.splits(), out);
            lastPath = plan.path();
            return true;
        }
        boolean ran = grouped.run(s, x, ids, weights, topK, plan.groupedExperts(), gemm.splits(), out);
        if (ran) {
            lastPath = CudaMoePath.GROUPED;
        }
        return ran;
    }

    /** Whether the path runs CudaFusedMoe's launches (sort, gate/up, down, combine). */
    private static boolean fusedPath(CudaMoePath p) {
        return p == CudaMoePath.FUSED || p == CudaMoePath.FUSED_TC || p == CudaMoePath.FUSED_WGMMA;
    }

    /** The expert table when the fused kernels can take these experts for x, else empty. */
    private Optional<CudaExpertTables.Table> fusedTable(CudaActivation x, List<ExpertWeights> experts) {
        if (x.rows() < 1 || experts.size() > KernelLimits.MOE_MAX_EXPERTS) {
            return Optional.empty();
        }
        return tables.of(experts, x.cols());
    }

    MoeRouting route(CudaActivation x, CudaWeight gate, RouterConfig cfg) {
        checkRouting(x, gate, cfg);
        int tokens = x.rows();
        int k = cfg.topK();
        int[] experts = new int[tokens * k];
        float[] weights = new float[tokens * k];
        if (tokens == 0) {
            return new MoeRouting(0, k, experts, weights);
        }
        try (StepMemory.Scratch s = memory.scratch(); Arena host = Arena.ofConfined()) {
            DeviceRouting r = routeOnDevice(s, x, gate, cfg);
            MemorySegment ids = memory.download(r.experts(), 4L * tokens * k, host);
            MemorySegment ws = memory.download(r.weights(), 4L * tokens * k, host);
            MemorySegment.copy(ids, ValueLayout.JAVA_INT, 0, experts, 0, tokens * k);
            MemorySegment.copy(ws, ValueLayout.JAVA_FLOAT, 0, weights, 0, tokens * k);
        }
        return new MoeRouting(tokens, k, experts, weights);
    }

    private static void checkRouting(CudaActivation x, CudaWeight gate, RouterConfig cfg) {
        int e = cfg.numExperts();
        int groups = cfg.groupLimited() ? cfg.numGroups() : 1;
        if (gate.rows() != e || gate.cols() != x.cols()) {
            throw new IllegalArgumentException("router weight " + gate.rows() + "x" + gate.cols() + " does not match "
                    + e + " experts over " + x.cols() + " values");
        }
        if (e < 1 || e > KernelLimits.MOE_MAX_EXPERTS || cfg.topK() < 1 || cfg.topK() > e) {
            throw new IllegalArgumentException("routing " + cfg.topK() + " of " + e + " experts: need 1 <= top-k <= "
                    + "experts <= " + KernelLimits.MOE_MAX_EXPERTS);
        }
        if (cfg.groupLimited() && (groups < 1 || e % groups != 0 || cfg.topkGroup() < 1 || cfg.topkGroup() > groups)) {
            throw new IllegalArgumentException("group-limited routing: " + e + " experts in " + groups + " groups, "
                    + cfg.topkGroup() + " kept");
        }
    }

    /** Router logits (cuBLAS) and ls_moe_route into scratch of s; the shapes are checked. */
    private DeviceRouting routeOnDevice(StepMemory.Scratch s, CudaActivation x, CudaWeight gate, RouterConfig cfg) {
        int tokens = x.rows();
        int e = cfg.numExperts();
        int k = cfg.topK();
        int groups = cfg.groupLimited() ? cfg.numGroups() : 1;
        long logits = s.floats((long) tokens * e);        // [T, E] f32
        // always split: the top-k choice is discrete (a rounded input could flip an expert, not just nudge a value),
        // HuggingFace's DeepseekV2 MoEGate computes these logits in f32 too, and they are E columns: cheap
        gemm.matmul(x, gate, memory.view(logits, tokens, e), MatmulPrecision.HIGH);
        long chosen = s.bytes(4L * tokens * k);             // [T, K] int32
        long chosenWeights = s.floats((long) tokens * k);   // [T, K] f32
        kernels.launch(new MoeRouteParams(logits, chosen, chosenWeights, tokens, e, e, k,
                cfg.groupLimited() ? 1 : 0, groups, cfg.topkGroup(), cfg.normTopkProb() ? 1 : 0,
                cfg.routedScalingFactor()),
                new Grid(tokens, 1, 1, KernelLimits.THREADS, KernelLimits.routeSharedBytes(e, groups)));
        return new DeviceRouting(chosen, chosenWeights);
    }

    /** out += Σ_k w_k · expert_k(x), contributions added in ascending expert id as the CPU backend adds them. */
    void experts(CudaActivation x, MoeRouting routing, List<ExpertWeights> experts, CudaActivation out) {
        experts(x, routing, experts, out, CudaMoePath.AUTO);
    }

    void experts(CudaActivation x, MoeRouting routing, List<ExpertWeights> experts, CudaActivation out,
                 CudaMoePath requested) {
        lastFoldedShared = false;
        int tokens = x.rows();
        int k = routing.topK();
        int hidden = x.cols();
        if (routing.numTokens() != tokens || out.rows() != tokens || out.cols() != hidden
                || routing.experts().length != tokens * k || routing.weights().length != tokens * k) {
            throw new IllegalArgumentException("MoE routing of " + routing.numTokens() + " tokens x " + k
                    + " does not match x " + tokens + "x" + hidden + " / out " + out.rows() + "x" + out.cols());
        }
        for (int id : routing.experts()) {
            if (id < 0 || id >= experts.size()) {
                throw new IllegalArgumentException("routing names expert " + id + " of " + experts.size());
            }
        }
        if (tokens * k == 0) {
            return;
        }
        Plan plan = plan(requested, x, experts);
        if (plan.path() != CudaMoePath.PER_EXPERT) { // the routing goes up once, the rest as in moe()
            try (StepMemory.Scratch s = memory.scratch()) {
                if (runOnDevice(plan, s, x, s.ints(routing.experts()), s.floats(routing.weights()), k, out)) {
                    return;
                }
            }
        }
        lastPath = CudaMoePath.PER_EXPERT;
        perExpert.run(x, routing, experts, out);
    }
}
