package io.latentserve.cuda.bench;

import io.latentserve.cuda.backend.CudaBackend;
import io.latentserve.cuda.backend.CudaMoePath;
import io.latentserve.model.backend.ExpertWeights;
import io.latentserve.model.backend.MoeRouting;
import io.latentserve.model.backend.RouterConfig;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.random.HashFill;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Kernel-level benchmark of the routed MoE of one DeepSeek-V2-Lite layer at decode batch sizes (64 routed
 * experts, hidden 2048, moe_intermediate 1408, top-6): {@link CudaBackend#moe} end to end (router GEMM,
 * ls_moe_route, ls_moe_sort, ls_moe_gate_up[_tc|_wgmma], ls_moe_down[_tc|_wgmma], ls_moe_combine). Decode MoE is bound by the bytes
 * of the experts the batch touches, so the figure is those bytes (distinct experts chosen x 3 x D x I x 2)
 * over the time of one call: compare it with the device's copy bandwidth. {@link Layer#run} times one path of
 * the caller's choice (fused kernels on CUDA cores or on tensor cores, the Hopper wgmma kernels for prefill sizes,
 * grouped cuBLAS GEMMs, per-expert GEMMs)
 * on the same layer and inputs,
 * so the paths print side by side; larger batches are compute bound, hence the TFLOP/s
 * (2 x 3 x D x I per routed token-expert pair) next to the bytes.
 *
 * <p>{@link Layer#runShared} times the whole layer with its 2 shared experts (one MLP of width 2 x 1408, always
 * applied) on the server's path (AUTO), the shared experts either folded into the fused launches or run first as a
 * dense MLP (ls_gemv up to 8 tokens, cuBLAS above), so the two print side by side; its bytes add the shared MLP's.
 *
 * <p>The expert weights (about 1.1 GB of bf16, plus 35 MB shared) and the router are random, made on the device by
 * ls_fill_hashed (nothing uploaded); the router's random scores spread tokens over the experts as a trained router
 * does. The backend needs that much weight memory free and a few MB of activations.
 */
public final class MoeDecodeBench {
    public static final int EXPERTS = 64;
    public static final int HIDDEN = 2048;
    public static final int INTER = 1408;
    public static final int TOP_K = 6;
    /** DeepSeek-V2-Lite's n_shared_experts: the shared MLP is SHARED x INTER wide. */
    public static final int SHARED = 2;

    /** What a timed call ran of the shared experts. */
    public enum Shared {
        /** Routed experts only ({@link Layer#run}). */
        NONE,
        /** The shared MLP first as dense products, then the routed experts. */
        SEPARATE,
        /** The shared experts folded into the fused path's launches. */
        FOLDED
    }

    /** One batch size on one path: mean seconds of a call, the touched experts' bytes per second. */
    public record Result(CudaMoePath path, Shared shared, int tokens, int distinctExperts, double secondsPerCall,
                         long bytesPerCall) {
        public double bytesPerSecond() {
            return bytesPerCall / secondsPerCall;
        }

        /** Expert FLOPs per second: 2 x (gate + up + down) x D x I per (token, expert) pair, shared ones included. */
        public double flopsPerSecond() {
            int perToken = TOP_K + (shared == Shared.NONE ? 0 : SHARED);
            return 2.0 * 3 * HIDDEN * INTER * perToken * tokens / secondsPerCall;
        }

        @Override
        public String toString() {
            return String.format("moe %-10s%s B %4d: %2d experts touched, %9.1f us/call, %7.1f GB/s of expert weights,"
                            + " %6.1f TFLOP/s", path.name().toLowerCase(java.util.Locale.ROOT),
                    shared == Shared.NONE ? "" : " + shared " + shared.name().toLowerCase(java.util.Locale.ROOT),
                    tokens, distinctExperts, secondsPerCall * 1e6, bytesPerSecond() / 1e9, flopsPerSecond() / 1e12);
        }
    }

    private MoeDecodeBench() {
    }

    /** One MoE layer's routed experts and router made on the device, to be timed on any path. */
    public static final class Layer {
        private final CudaBackend backend;
        private final List<ExpertWeights> experts;
        private final ExpertWeights shared;         // [SHARED·INTER, HIDDEN] gate/up, [HIDDEN, SHARED·INTER] down
        private final Tensor gate;
        private final long seed;
        private final RouterConfig cfg = new RouterConfig(EXPERTS, TOP_K, false, 1, 1, false, 1f);

        private Layer(CudaBackend backend, long seed) {
            this.backend = backend;
            this.seed = seed;
            this.experts = new ArrayList<>(EXPERTS);
            for (int e = 0; e < EXPERTS; e++) {
                // random weights made on the device (no upload): the kernels read every byte the same way
                experts.add(new ExpertWeights(hashed(backend, "gate" + e, INTER, HIDDEN),
                        hashed(backend, "up" + e, INTER, HIDDEN), hashed(backend, "down" + e, HIDDEN, INTER)));
            }
            this.shared = new ExpertWeights(hashed(backend, "shared.gate", SHARED * INTER, HIDDEN),
                    hashed(backend, "shared.up", SHARED * INTER, HIDDEN),
                    hashed(backend, "shared.down", HIDDEN, SHARED * INTER));
            // a random router (2.5x the usual scale) spreads tokens over the experts as a trained one does
            this.gate = backend.hashedWeight("bench.gate", new long[]{EXPERTS, HIDDEN},
                    new HashFill(HashFill.fnv1a("bench.gate") ^ (int) seed, 0f, (float) (2.5 / Math.sqrt(HIDDEN))),
                    null);
        }

        /**
         * Every batch size of {@code batches} on one path (AUTO: the server's choice), {@code reps} timed calls
         * each after 3 warm-up calls. The same inputs per batch size whichever the path. A path that cannot run
         * here (no grouped GEMM in this cuBLAS) throws IllegalArgumentException, as does forcing a path on
         * experts it does not take.
         */
        public List<Result> run(int[] batches, int reps, CudaMoePath path) {
            if (reps < 1) {
                throw new IllegalArgumentException("reps " + reps);
            }
            SplittableRandom rnd = new SplittableRandom(seed);
            List<Result> results = new ArrayList<>();
            for (int tokens : batches) {
                results.add(measure(tokens, reps, rnd, path, Shared.NONE));
            }
            return results;
        }

        /**
         * The whole layer (shared + routed experts, {@link CudaBackend#moe(Tensor, Tensor, RouterConfig, List,
         * ExpertWeights, Tensor, CudaMoePath, boolean)}) on the server's path, the shared experts folded into the
         * fused launches or not, at every batch size of {@code batches}; the same inputs per batch size either way.
         */
        public List<Result> runShared(int[] batches, int reps, boolean folded) {
            if (reps < 1) {
                throw new IllegalArgumentException("reps " + reps);
            }
            SplittableRandom rnd = new SplittableRandom(seed);
            List<Result> results = new ArrayList<>();
            for (int tokens : batches) {
                results.add(measure(tokens, reps, rnd, CudaMoePath.AUTO, folded ? Shared.FOLDED : Shared.SEPARATE));
            }
            return results;
        }

        /**
         * Mean seconds of one call after 3 warm-up calls. The calls add onto the same out (the layer's contract wants
         * zeros on entry; the values do not change the time).
         */
        private Result measure(int tokens, int reps, SplittableRandom rnd, CudaMoePath path, Shared withShared) {
            backend.beginForward();
            float[] xs = new float[tokens * HIDDEN];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
            Tensor x = backend.fromHost(xs, tokens, HIDDEN);
            Tensor out = backend.activation(tokens, HIDDEN);
            MoeRouting routing = backend.route(x, gate, cfg); // the experts the timed calls touch (same x, same gate)
            int distinct = (int) Arrays.stream(routing.experts()).distinct().count();
            Runnable call = withShared == Shared.NONE ? () -> backend.moe(x, gate, cfg, experts, out, path)
                    : () -> backend.moe(x, gate, cfg, experts, shared, out, path, withShared == Shared.FOLDED);
            for (int i = 0; i < 3; i++) {
                call.run();
            }
            backend.synchronize();
            long start = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                call.run();
            }
            backend.synchronize();
            double seconds = (System.nanoTime() - start) / 1e9 / reps;
            int matrices = distinct + (withShared == Shared.NONE ? 0 : SHARED); // expert-sized weight sets read
            return new Result(path, withShared, tokens, distinct, seconds, (long) matrices * 3 * HIDDEN * INTER * 2);
        }
    }

    /** The layer's weights, about 1.1 GB, from the backend's weight memory: make one and time every path on it. */
    public static Layer layer(CudaBackend backend, long seed) {
        return new Layer(backend, seed);
    }

    private static Tensor hashed(CudaBackend backend, String name, int rows, int cols) {
        long[] shape = {rows, cols};
        return backend.hashedWeight(name, shape, HashFill.forTensor(name, shape, 1), null);
    }
}
