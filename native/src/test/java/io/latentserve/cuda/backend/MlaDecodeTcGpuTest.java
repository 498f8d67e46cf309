package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.driver.CudaDriver;
import io.latentserve.cuda.driver.GpuFixture;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.KernelModule;
import io.latentserve.cuda.kernels.MlaCombineParams;
import io.latentserve.cuda.kernels.MlaDecodeParams;
import io.latentserve.cuda.kernels.MlaDecodeTcParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ls_mla_decode_tc (+ ls_mla_combine) launched as {@link MlaDecodeTc} says, with a {@link MlaDecodePlan}, over a
 * bf16 latent cache: against an f64 softmax over the same bf16 values, and against ls_mla_decode over those
 * values widened to an f32 cache (the kernel it stands in for). On compute capability 9.0 and up also its
 * bulk-copy variant ls_mla_decode_tma: against the f64 softmax and bit for bit against ls_mla_decode_tc (the
 * same arithmetic on the same tiles; only how the tiles reach shared memory differs). The kernels are launched
 * here directly (CudaAttentionGpuTest covers the backend's routing). Small shapes: the emulator runs them too
 * ({@code cuda-kernels/emulate/run-java.sh MlaDecodeTcGpuTest}).
 */
@Tag("gpu")
@Tag("mbarrier")
class MlaDecodeTcGpuTest {
    /** Scores from Q split in bf16 hi + lo (~2^-17 relative) against exact keys, mma's own summation order. */
    static final double TOL = 1e-5;

    static CudaContext ctx;
    static KernelModule module;
    final SplittableRandom rnd = new SplittableRandom(11);

    @BeforeAll
    static void open() {
        ctx = CudaContext.open(0, 0, 0, 0);
        module = KernelModule.load(ctx.driver());
    }

    @AfterAll
    static void close() {
        if (module != null) {
            module.close();
        }
        if (ctx != null) {
            ctx.close();
        }
    }

    @Test
    void deepSeekLiteHeadsWithSplitAndUnsplitRows() {
        // min chunk 32: the 200-key row splits (combine), the 1- and 33-key rows do not (the kernel writes out)
        check(16, 512, 64, 64, new int[]{1, 200, 33}, 32);
    }

    @Test
    void paddedHeadGroupAndSmallDims() {
        check(3, 48, 16, 16, new int[]{70, 5}, 32);
    }

    /** Which decode kernels a check runs: the bulk-copy variant where the GPU has the bulk copy engine. */
    enum Kernel { F32_CACHE, TC, TMA }

    /** One decode batch (row w = the last token of sequence w, blocks shuffled), both kernels, both checks. */
    void check(int heads, int r, int dr, int blockSize, int[] lengths, int minChunk) {
        assertTrue(MlaDecodeTc.supports(heads, r, dr, ctx.device().sharedMemoryPerBlockOptin()), "shape supported");
        int rows = lengths.length;
        int width = r + dr;
        int maxBlocks = Arrays.stream(lengths).map(n -> (n + blockSize - 1) / blockSize).max().orElseThrow();
        int cacheRows = (rows * maxBlocks + 1) * blockSize;
        List<Integer> free = new ArrayList<>();
        for (int i = 0; i < rows * maxBlocks + 1; i++) {
            free.add(i);
        }
        int[] tables = new int[rows * maxBlocks];
        for (int i = 0; i < tables.length; i++) {
            tables[i] = free.remove(rnd.nextInt(free.size()));
        }
        float[] cache = new float[cacheRows * width];   // bf16 values, widened
        for (int i = 0; i < cache.length; i++) {
            cache[i] = GpuFixture.roundBf16((float) gauss());
        }
        float[] q = new float[rows * heads * width];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) gauss();
        }
        float scale = 0.08f;
        int[] seqOf = new int[rows];
        Arrays.setAll(seqOf, w -> w);
        MlaDecodePlan plan = MlaDecodePlan.of(seqOf, lengths, heads, ctx.device().multiprocessors(), minChunk);

        float[] want = reference(q, cache, tables, maxBlocks, blockSize, lengths, heads, r, dr, scale);
        float[] tc = run(plan, q, cache, tables, maxBlocks, blockSize, heads, r, dr, scale, Kernel.TC);
        float[] f32 = run(plan, q, cache, tables, maxBlocks, blockSize, heads, r, dr, scale, Kernel.F32_CACHE);
        String shape = "H " + heads + " r " + r + "+" + dr + " bs " + blockSize + " ctx " + Arrays.toString(lengths)
                + " (" + plan.numWork() + " items)";
        GpuReport.check("ls_mla_decode_tc+combine vs f64", shape, GpuReport.maxRelErr(tc, want), TOL);
        GpuReport.check("ls_mla_decode_tc vs ls_mla_decode (f32 cache)", shape, GpuReport.maxRelErr(tc, f32), TOL);
        if (MlaDecodeTc.bulkCopy(ctx.device(), true)) {
            float[] tma = run(plan, q, cache, tables, maxBlocks, blockSize, heads, r, dr, scale, Kernel.TMA);
            GpuReport.check("ls_mla_decode_tma+combine vs f64", shape, GpuReport.maxRelErr(tma, want), TOL);
            int differ = 0;
            for (int i = 0; i < tc.length; i++) {
                differ += Float.floatToRawIntBits(tc[i]) != Float.floatToRawIntBits(tma[i]) ? 1 : 0;
            }
            assertEquals(0, differ, "ls_mla_decode_tma vs ls_mla_decode_tc: values not bit-identical, " + shape);
        } else {
            System.out.println("SKIPPED ls_mla_decode_tma: " + ctx.device() + " has no bulk copy engine");
        }
    }

    /** out [rows, heads, r]: ls_mla_decode_tc or _tma over the bf16 cache, or ls_mla_decode over it widened to f32. */
    float[] run(MlaDecodePlan plan, float[] q, float[] cache, int[] tables, int maxBlocks, int blockSize, int heads,
                int r, int dr, float scale, Kernel kernel) {
        boolean tensorCores = kernel != Kernel.F32_CACHE;
        CudaDriver d = ctx.driver();
        int rows = plan.rows();
        int width = r + dr;
        List<Long> owned = new ArrayList<>();
        try (Arena host = Arena.ofConfined()) {
            long dq = own(owned, upload(d, host, q, false));
            long dCache = own(owned, upload(d, host, cache, tensorCores));
            long dTables = own(owned, upload(d, host, tables));
            long dWork = own(owned, upload(d, host, plan.launchWork()));
            long dSplitBase = own(owned, upload(d, host, plan.splitBase()));
            long out = own(owned, upload(d, host, new float[rows * heads * r], false));
            long partialAcc = own(owned, d.memAlloc(Math.max(16, 4L * plan.launchItems() * heads * r)));
            long partialMl = own(owned, d.memAlloc(Math.max(16, 8L * plan.launchItems() * heads)));
            if (tensorCores) {
                module.launch(new MlaDecodeTcParams(dq, dCache, dTables, dWork, dSplitBase, partialAcc, partialMl, out,
                        plan.launchItems(), heads, r, dr, heads * width, width, width, blockSize, maxBlocks, heads * r, r,
                        scale, kernel == Kernel.TMA), MlaDecodeTc.grid(plan, heads, r, dr), ctx.streamHandle());
            } else {
                module.launch(new MlaDecodeParams(dq, dCache, dTables, dWork, dSplitBase, partialAcc, partialMl, out,
                        plan.launchItems(), heads, r, dr, heads * width, width, width, blockSize, maxBlocks, heads * r, r,
                        scale), new Grid(plan.launchItems(), plan.headGroups(), 1, 32 * KernelLimits.MLA_DECODE_WARPS,
                        KernelLimits.mlaDecodeSharedBytes(r, dr)), ctx.streamHandle());
            }
            if (plan.needsCombine()) {
                module.launch(new MlaCombineParams(partialAcc, partialMl, dSplitBase, out, rows, heads, r, heads * r, r),
                        new Grid(rows, heads, 1, KernelLimits.THREADS, 0), ctx.streamHandle());
            }
            ctx.synchronize();
            MemorySegment result = host.allocate(ValueLayout.JAVA_FLOAT, (long) rows * heads * r);
            d.memcpyDtoH(result, out, result.byteSize());
            return result.toArray(ValueLayout.JAVA_FLOAT);
        } finally {
            for (long p : owned) {
                d.memFree(p);
            }
        }
    }

    /** f64 softmax(q . key * scale) . value per row and head over the row's keys 0 .. length - 1. */
    static float[] reference(float[] q, float[] cache, int[] tables, int maxBlocks, int blockSize, int[] lengths,
                             int heads, int r, int dr, float scale) {
        int width = r + dr;
        float[] out = new float[lengths.length * heads * r];
        for (int w = 0; w < lengths.length; w++) {
            for (int h = 0; h < heads; h++) {
                int qBase = (w * heads + h) * width;
                double[] s = new double[lengths[w]];
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < lengths[w]; k++) {
                    int row = tables[w * maxBlocks + k / blockSize] * blockSize + k % blockSize;
                    double dot = 0;
                    for (int i = 0; i < width; i++) {
                        dot += (double) q[qBase + i] * cache[row * width + i];
                    }
                    s[k] = dot * scale;
                    max = Math.max(max, s[k]);
                }
                double sum = 0;
                for (int k = 0; k < s.length; k++) {
                    s[k] = Math.exp(s[k] - max);
                    sum += s[k];
                }
                for (int i = 0; i < r; i++) {
                    double o = 0;
                    for (int k = 0; k < s.length; k++) {
                        int row = tables[w * maxBlocks + k / blockSize] * blockSize + k % blockSize;
                        o += s[k] * cache[row * width + i];
                    }
                    out[(w * heads + h) * r + i] = (float) (o / sum);
                }
            }
        }
        return out;
    }

    double gauss() {
        double u = rnd.nextDouble(1e-12, 1);
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    static long own(List<Long> owned, long p) {
        owned.add(p);
        return p;
    }

    /** f32 values to the device as f32, or as bf16 (they are bf16 values already: the rounding is exact). */
    static long upload(CudaDriver d, Arena host, float[] values, boolean bf16) {
        long bytes = (bf16 ? 2L : 4L) * values.length;
        long p = d.memAlloc(Math.max(16, bytes));
        MemorySegment seg = host.allocate(Math.max(16, bytes), 16);
        for (int i = 0; i < values.length; i++) {
            if (bf16) {
                seg.setAtIndex(ValueLayout.JAVA_SHORT, i, GpuFixture.toBf16(values[i]));
            } else {
                seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, values[i]);
            }
        }
        d.memcpyHtoD(p, seg, bytes);
        return p;
    }

    static long upload(CudaDriver d, Arena host, int[] values) {
        long p = d.memAlloc(Math.max(16, 4L * values.length));
        MemorySegment seg = host.allocate(ValueLayout.JAVA_INT, Math.max(1, values.length));
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_INT, 0, values.length);
        d.memcpyHtoD(p, seg, 4L * values.length);
        return p;
    }
}
