package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.model.perf.KnownShapes;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.RopeStyle;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.RopeTable;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.checkpoint.DType;
import io.latentserve.model.graph.YarnRope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

/**
 * Embedding, RMSNorm (plain and fused with the residual add), add, SiLU-gate, RoPE, matmul (cuBLAS with the
 * bf16 hi/lo split), the KV-cache write and the logits path, each against the CPU backend on fresh random
 * inputs: odd sizes, sizes at and around the 256-thread block, column views (strided rows), in place.
 */
@Tag("gpu")
class CudaElementwiseGpuTest {
    /** Ops whose arithmetic is the CPU backend's, operation for operation (a last-ulp exp at most). */
    static final double TOL_SAME = 1e-7;
    /** Ops with one f32 reduction in another order (a tree on the GPU, sequential on the CPU). */
    static final double TOL_F32 = 2e-5;
    /** GEMMs: bf16 split of the activations (2^-17) and cuBLAS's summation order. */
    static final double TOL_GEMM = 1e-4;

    static GpuBackends b;
    final SplittableRandom rnd = new SplittableRandom(20240611);

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

    /** An activation of both backends: [0] CUDA, [1] CPU, the same values; a column view when pad > 0. */
    Tensor[] pair(int rows, int cols, int pad, float[] values) {
        Tensor[] out = new Tensor[2];
        for (int i = 0; i < 2; i++) {
            Backend be = b.backend(i == 0);
            Tensor full = be.activation(rows, cols + 2 * pad);
            Tensor t = pad > 0 ? be.columns(full, pad, cols) : full;
            b.fill(be, t, values);
            out[i] = t;
        }
        return out;
    }

    float[] gpu(Tensor t) {
        return b.cuda.toHost(t);
    }

    float[] cpu(Tensor t) {
        return b.cpu.toHost(t);
    }

    @Test
    void embedding() {
        for (DType dtype : new DType[]{DType.BF16, DType.F16, DType.F32}) {
            for (int cols : new int[]{1, 255, 256, 257, 2048}) {
                int vocab = 1001;
                Tensor[] table = b.weight(dtype, vocab, cols, GpuBackends.gaussian(rnd, vocab * cols, 1));
                int[] ids = {0, vocab - 1, 17, 17, 500, 3, 999};
                Tensor[] out = pair(ids.length, cols, cols % 2, new float[ids.length * cols]);
                b.cuda.embedding(table[0], ids, out[0]);
                b.cpu.embedding(table[1], ids, out[1]);
                GpuReport.check("ls_embedding", dtype + " vocab " + vocab + " x " + cols + ", 7 ids",
                        GpuReport.maxRelErr(gpu(out[0]), cpu(out[1])), 0);
            }
        }
    }

    @Test
    void rmsNorm() {
        for (DType dtype : new DType[]{DType.BF16, DType.F32}) {
            for (int[] s : new int[][]{{1, 1}, {3, 31}, {5, 255}, {2, 256}, {7, 257}, {17, 2048}, {2, 5120}}) {
                int rows = s[0];
                int cols = s[1];
                Tensor[] w = b.weight(dtype, 0, cols, GpuBackends.random(rnd, cols, 1));
                float[] x = GpuBackends.gaussian(rnd, rows * cols, 2);
                Tensor[] in = pair(rows, cols, 3, x);
                Tensor[] out = pair(rows, cols, 0, new float[rows * cols]);
                b.cuda.rmsNorm(in[0], w[0], 1e-6f, out[0]);
                b.cpu.rmsNorm(in[1], w[1], 1e-6f, out[1]);
                GpuReport.check("ls_rmsnorm", dtype + " [" + rows + ", " + cols + "] strided",
                        GpuReport.maxRelErr(gpu(out[0]), cpu(out[1])), TOL_F32);
                Tensor[] inPlace = pair(rows, cols, 0, x);
                b.cuda.rmsNorm(inPlace[0], w[0], 1e-6f, inPlace[0]);
                b.cpu.rmsNorm(inPlace[1], w[1], 1e-6f, inPlace[1]);
                GpuReport.check("ls_rmsnorm", dtype + " [" + rows + ", " + cols + "] in place",
                        GpuReport.maxRelErr(gpu(inPlace[0]), cpu(inPlace[1])), TOL_F32);
            }
        }
    }

    @Test
    void addRmsNormFused() {
        for (int[] s : new int[][]{{1, 64}, {9, 257}, {33, 2048}}) {
            int rows = s[0];
            int cols = s[1];
            Tensor[] w = b.weight(DType.BF16, 0, cols, GpuBackends.random(rnd, cols, 1));
            float[] h = GpuBackends.gaussian(rnd, rows * cols, 1);
            float[] x = GpuBackends.gaussian(rnd, rows * cols, 1);
            Tensor[] hs = pair(rows, cols, 0, h);
            Tensor[] xs = pair(rows, cols, 1, x);
            Tensor[] out = pair(rows, cols, 0, new float[rows * cols]);
            b.cuda.addRmsNorm(hs[0], xs[0], w[0], 1e-6f, out[0]);
            b.cpu.add(hs[1], xs[1]);
            b.cpu.rmsNorm(hs[1], w[1], 1e-6f, out[1]);
            float[] gotH = gpu(hs[0]);
            float[] gotOut = gpu(out[0]);
            GpuReport.check("ls_rmsnorm+residual", "[" + rows + ", " + cols + "] residual",
                    GpuReport.maxRelErr(gotH, cpu(hs[1])), 0);
            GpuReport.check("ls_rmsnorm+residual", "[" + rows + ", " + cols + "] normed",
                    GpuReport.maxRelErr(gotOut, cpu(out[1])), TOL_F32);
        }
    }

    @Test
    void addAndSiluMul() {
        for (int[] s : new int[][]{{1, 1}, {3, 255}, {4, 256}, {5, 257}, {11, 1408}, {2, 10944}}) {
            int rows = s[0];
            int cols = s[1];
            float[] x = GpuBackends.gaussian(rnd, rows * cols, 3);
            float[] y = GpuBackends.gaussian(rnd, rows * cols, 3);
            Tensor[] a = pair(rows, cols, 2, x);
            Tensor[] c = pair(rows, cols, 0, y);
            b.cuda.add(a[0], c[0]);
            b.cpu.add(a[1], c[1]);
            GpuReport.check("ls_add", "[" + rows + ", " + cols + "] strided acc",
                    GpuReport.maxRelErr(gpu(a[0]), cpu(a[1])), 0);
            Tensor[] g = pair(rows, cols, 1, x);
            Tensor[] u = pair(rows, cols, 0, y);
            Tensor[] o = pair(rows, cols, 0, new float[rows * cols]);
            b.cuda.siluMul(g[0], u[0], o[0]);
            b.cpu.siluMul(g[1], u[1], o[1]);
            GpuReport.check("ls_silu_mul", "[" + rows + ", " + cols + "]", GpuReport.maxRelErr(gpu(o[0]), cpu(o[1])), 0);
            b.cuda.siluMul(g[0], u[0], g[0]);
            b.cpu.siluMul(g[1], u[1], g[1]);
            GpuReport.check("ls_silu_mul", "[" + rows + ", " + cols + "] in place",
                    GpuReport.maxRelErr(gpu(g[0]), cpu(g[1])), TOL_SAME);
        }
    }

    @Test
    void rope() {
        float[] yarn = YarnRope.forConfig(KnownShapes.deepseekV2Lite(1)).invFreq();
        float[] plain = new float[64];
        for (int i = 0; i < plain.length; i++) {
            plain[i] = (float) Math.pow(10000, -2.0 * i / 128);
        }
        RopeTable interleaved = new RopeTable(yarn, 1f, RopeStyle.INTERLEAVED);
        RopeTable scaled = new RopeTable(java.util.Arrays.copyOf(yarn, 4), 1.25f, RopeStyle.INTERLEAVED);
        RopeTable splitHalf = new RopeTable(plain, 1f, RopeStyle.SPLIT_HALF);
        // {rows, heads, headStride, ropeOffset, pad}, rope
        Object[][] cases = {
                {new int[]{5, 16, 192, 128, 0}, interleaved}, {new int[]{3, 1, 0, 512, 0}, interleaved},
                {new int[]{7, 4, 24, 16, 3}, scaled}, {new int[]{4, 32, 128, 0, 0}, splitHalf},
                {new int[]{2, 8, 128, 0, 5}, splitHalf}};
        for (Object[] c : cases) {
            int[] s = (int[]) c[0];
            RopeTable rope = (RopeTable) c[1];
            int rows = s[0];
            int cols = Math.max((s[1] - 1) * s[2] + s[3] + rope.dim(), 1);
            int[] positions = new int[rows];
            for (int i = 0; i < rows; i++) {
                positions[i] = i == 0 ? 0 : i == 1 ? 163839 : rnd.nextInt(5000);
            }
            Tensor[] x = pair(rows, cols, s[4], GpuBackends.gaussian(rnd, rows * cols, 1));
            b.cuda.rope(x[0], s[1], s[2], s[3], rope, positions);
            b.cpu.rope(x[1], s[1], s[2], s[3], rope, positions);
            GpuReport.check("ls_rope", rope.style() + " rows " + rows + ", " + s[1] + " heads, d " + rope.dim()
                    + ", pos to 163839", GpuReport.maxRelErr(gpu(x[0]), cpu(x[1])), TOL_SAME);
        }
    }

    @Test
    void matmul() {
        int[][] shapes = {{1, 1, 1}, {1, 2048, 3072}, {2, 17, 3}, {7, 255, 129}, {33, 256, 1000}, {5, 257, 257},
                {64, 2048, 576}, {3, 512, 4096}, {1, 10944, 2048}, {8, 1408, 2048}, {9, 64, 64}};
        for (DType dtype : new DType[]{DType.BF16, DType.F32, DType.F16}) {
            for (int[] s : shapes) {
                int t = s[0];
                int k = s[1];
                int n = s[2];
                if (dtype != DType.BF16 && (long) k * n > 4_000_000) {
                    continue;
                }
                Tensor[] w = b.weight(dtype, n, k, GpuBackends.random(rnd, n * k, 1 / Math.sqrt(k)));
                Tensor[] x = pair(t, k, t % 3, GpuBackends.gaussian(rnd, t * k, 1));
                Tensor[] out = pair(t, n, t % 2, new float[t * n]);
                b.cuda.matmul(x[0], w[0], out[0]);
                b.cpu.matmul(x[1], w[1], out[1]);
                boolean gemv = dtype == DType.BF16 && t <= KernelLimits.GEMV_MAX_ROWS;
                GpuReport.check(gemv ? "matmul (ls_gemv)" : "matmul (cuBLAS)", dtype + " T " + t + ", K " + k + ", N " + n
                        + (t % 3 > 0 ? ", strided x" : ""), GpuReport.maxRelErr(gpu(out[0]), cpu(out[1])), TOL_GEMM);
            }
        }
    }

    @Test
    void writeKvCacheThroughSlotMapping() {
        int width = 576;
        int blocks = 9;
        int blockSize = 16;
        var gpuCache = b.cuda.kvCache(2, blocks, blockSize, width);
        var cpuCache = b.cpu.kvCache(2, blocks, blockSize, width);
        try (gpuCache; cpuCache) {
            int[] slots = {0, 143, 16, 15, 17, 77, 100};
            Tensor[] rows = pair(slots.length, width, 4, GpuBackends.gaussian(rnd, slots.length * width, 1));
            b.cuda.writeKvCache(gpuCache, 1, rows[0], slots);
            b.cpu.writeKvCache(cpuCache, 1, rows[1], slots);
            // the CPU cache holds exactly these rows at these slots and zeros elsewhere: compare the device copy with that
            float[] values = b.cpu.toHost(rows[1]);
            float[] want = new float[blocks * blockSize * width];
            for (int i = 0; i < slots.length; i++) {
                System.arraycopy(values, i * width, want, slots[i] * width, width);
            }
            CudaKvCache c = CudaKvCache.of(gpuCache);
            float[] got = b.cuda.download(new CudaActivation(c.layer(1), c.slots(), width, width,
                    b.cuda.memory.generation()));
            double err = GpuReport.maxAbsErr(got, want);
            GpuReport.check("ls_copy_rows (kv write)", slots.length + " rows of " + width + " into 9 x 16 slots",
                    err, 0);
        }
    }

    /**
     * The fused MLA latent rows (ls_mla_latent) against the CPU backend's norm, rope and cache write (the default
     * Backend.mlaLatentRows), and bit for bit against the CUDA backend's three separate kernels; f32 and bf16
     * caches, V2-Lite's 512 + 64 with YaRN (interleaved) and a small split-half shape.
     */
    @Test
    void mlaLatentRowsFused() {
        float[] yarn = YarnRope.forConfig(KnownShapes.deepseekV2Lite(1)).invFreq();
        RopeTable interleaved = new RopeTable(yarn, 1f, RopeStyle.INTERLEAVED);
        RopeTable splitHalf = new RopeTable(java.util.Arrays.copyOf(yarn, 8), 1f, RopeStyle.SPLIT_HALF);
        Object[][] cases = {{512, interleaved}, {48, splitHalf}};
        int blocks = 5;
        int blockSize = 16;
        int[] slots = {0, 79, 16, 15, 33};
        int[] positions = {0, 4000, 7, 163839, 31};
        for (Object[] c : cases) {
            int r = (int) c[0];
            RopeTable rope = (RopeTable) c[1];
            int width = r + rope.dim();
            for (KvCacheDtype dtype : new KvCacheDtype[]{KvCacheDtype.F32, KvCacheDtype.BF16}) {
                Tensor[] w = b.weight(DType.BF16, 0, r, GpuBackends.random(rnd, r, 1));
                float[] values = GpuBackends.gaussian(rnd, slots.length * width, 1);
                Tensor[] kv = pair(slots.length, width, 3, values);
                Tensor[] separate = pair(slots.length, width, 3, values);
                var fusedCache = b.cuda.kvCache(1, blocks, blockSize, width, dtype);
                var separateCache = b.cuda.kvCache(1, blocks, blockSize, width, dtype);
                var cpuCache = b.cpu.kvCache(1, blocks, blockSize, width, dtype);
                try (fusedCache; separateCache; cpuCache) {
                    b.cuda.mlaLatentRows(kv[0], r, rope.dim(), w[0], 1e-6f, rope, positions, fusedCache, 0, slots);
                    b.cpu.mlaLatentRows(kv[1], r, rope.dim(), w[1], 1e-6f, rope, positions, cpuCache, 0, slots);
                    Tensor latent = b.cuda.columns(separate[0], 0, r);
                    b.cuda.rmsNorm(latent, w[0], 1e-6f, latent);
                    b.cuda.rope(b.cuda.columns(separate[0], r, rope.dim()), 1, 0, 0, rope, positions);
                    b.cuda.writeKvCache(separateCache, 0, separate[0], slots);
                    String shape = slots.length + " rows of " + r + " + " + rope.dim() + ", " + dtype + " cache";
                    GpuReport.check("ls_mla_latent rows vs CPU", shape, GpuReport.maxRelErr(gpu(kv[0]), cpu(kv[1])),
                            TOL_F32);
                    GpuReport.check("ls_mla_latent rows vs the three kernels", shape,
                            GpuReport.maxAbsErr(gpu(kv[0]), gpu(separate[0])), 0);
                    int[] fused = cacheBits(CudaKvCache.of(fusedCache), width, dtype);
                    int[] apart = cacheBits(CudaKvCache.of(separateCache), width, dtype);
                    GpuReport.check("ls_mla_latent cache vs the three kernels", shape + " (words differing)",
                            java.util.Arrays.mismatch(fused, apart) < 0 ? 0 : 1, 0);
                }
            }
        }
    }

    /** Layer 0 of a cache as raw 32-bit words (a bf16 cache's pairs of values), fetched as f32 rows. */
    static int[] cacheBits(CudaKvCache c, int width, KvCacheDtype dtype) {
        int words = dtype == KvCacheDtype.BF16 ? width / 2 : width;
        float[] values = b.cuda.download(new CudaActivation(c.layer(0), c.slots(), words, words,
                b.cuda.memory.generation()));
        int[] bits = new int[values.length];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    @Test
    void logitsOfPickedRows() {
        int d = 2048;
        int vocab = 102400;
        Tensor[] norm = b.weight(DType.BF16, 0, d, GpuBackends.random(rnd, d, 1));
        Tensor[] head = b.weight(DType.BF16, vocab, d, GpuBackends.random(rnd, vocab * d, 4 / Math.sqrt(d)));
        int tokens = 5;
        int[] picked = {4, 1};
        Tensor[] h = pair(tokens, d, 0, GpuBackends.gaussian(rnd, tokens * d, 1));
        float[][] logits = new float[2][];
        for (int i = 0; i < 2; i++) {
            Backend be = b.backend(i == 0);
            Tensor rows = be.activation(picked.length, d);
            for (int r = 0; r < picked.length; r++) {
                be.add(be.rowRange(rows, r, 1), be.rowRange(h[i], picked[r], 1));
            }
            be.rmsNorm(rows, norm[i], 1e-6f, rows);
            Tensor out = be.activation(picked.length, vocab);
            be.matmul(rows, head[i], out);
            logits[i] = be.toHost(out);
        }
        GpuReport.check("logits (norm + lm_head)", "2 of 5 rows, D 2048, V 102400",
                GpuReport.maxRelErr(logits[0], logits[1]), TOL_GEMM);
    }
}
