package io.latentserve.cuda.backend;

import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.backend.MlaShape;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MLA attention (decompressed prefill, absorbed decode, and AUTO mixing both in one batch) and paged
 * MHA/GQA against the CPU backend: several sequences per batch, prefixes already in the cache (as after a
 * prefix-cache hit or in decode), contexts ending just before, on and after block boundaries, block
 * tables out of order, block sizes 1, 16 and 64. Also over a bf16 cache on both backends: both round each
 * written value to nearest even, so they attend over the same values and the tolerance stays the f32 one.
 */
@Tag("gpu")
class CudaAttentionGpuTest {
    /** Scores summed in another order, an online softmax with f32 exp, per-warp partial sums merged. */
    static final double TOL = 1e-4;

    static GpuBackends b;
    final SplittableRandom rnd = new SplittableRandom(7);

    @BeforeAll
    static void open() {
        b = GpuBackends.open(4, 2, 4);
    }

    @AfterAll
    static void close() {
        if (b != null) {
            b.close();
        }
    }

    /** Sequences given as {cached prefix length, new tokens}; blocks shuffled across the cache. */
    record Layout(AttentionBatch batch, int blocks, String text) {
    }

    Layout layout(int blockSize, int[][] seqs) {
        int total = 0;
        int blocks = 0;
        for (int[] s : seqs) {
            total += s[1];
            blocks += (s[0] + s[1] + blockSize - 1) / blockSize;
        }
        List<Integer> free = new ArrayList<>();
        for (int i = 0; i < blocks + 3; i++) {
            free.add(i);
        }
        java.util.Collections.shuffle(free, new java.util.Random(rnd.nextLong()));
        int[] starts = new int[seqs.length + 1];
        int[] positions = new int[total];
        int[] slots = new int[total];
        int[][] tables = new int[seqs.length][];
        int t = 0;
        for (int i = 0; i < seqs.length; i++) {
            int len = seqs[i][0] + seqs[i][1];
            tables[i] = new int[(len + blockSize - 1) / blockSize];
            for (int j = 0; j < tables[i].length; j++) {
                tables[i][j] = free.removeFirst();
            }
            starts[i] = t;
            for (int p = seqs[i][0]; p < len; p++, t++) {
                positions[t] = p;
                slots[t] = tables[i][p / blockSize] * blockSize + p % blockSize;
            }
            starts[i + 1] = t;
        }
        return new Layout(new AttentionBatch(starts, positions, tables, slots, blockSize), blocks + 3,
                "bs " + blockSize + " seqs " + Arrays.deepToString(seqs));
    }

    /** Writes random cache rows for every cached prefix position and every new token, identically on both backends. */
    void fillCache(Layout l, int[][] seqs, int width, KvCache[] caches) {
        AttentionBatch a = l.batch();
        List<Integer> prefixSlots = new ArrayList<>();
        for (int i = 0; i < seqs.length; i++) {
            for (int p = 0; p < seqs[i][0]; p++) {
                prefixSlots.add(a.slot(i, p));
            }
        }
        int[] prefix = prefixSlots.stream().mapToInt(Integer::intValue).toArray();
        float[] prefixRows = GpuBackends.gaussian(rnd, prefix.length * width, 1);
        float[] newRows = GpuBackends.gaussian(rnd, a.numTokens() * width, 1);
        for (int i = 0; i < 2; i++) {
            Backend be = b.backend(i == 0);
            if (prefix.length > 0) {
                be.writeKvCache(caches[i], 0, b.input(be, prefix.length, width, prefixRows), prefix);
            }
            be.writeKvCache(caches[i], 0, b.input(be, a.numTokens(), width, newRows), a.slotMapping());
        }
    }

    void mla(MlaShape sh, int blockSize, int[][] seqs, MlaMode mode) {
        mla(sh, blockSize, seqs, mode, KvCacheDtype.F32);
    }

    void mla(MlaShape sh, int blockSize, int[][] seqs, MlaMode mode, KvCacheDtype dtype) {
        Layout l = layout(blockSize, seqs);
        int h = sh.numHeads();
        int width = sh.cacheWidth();
        Tensor[] kvB = b.weight(DType.BF16, h * (sh.qkNopeHeadDim() + sh.vHeadDim()), sh.kvLoraRank(),
                GpuBackends.random(rnd, h * (sh.qkNopeHeadDim() + sh.vHeadDim()) * sh.kvLoraRank(),
                        1 / Math.sqrt(sh.kvLoraRank())));
        KvCache[] caches = {b.cuda.kvCache(1, l.blocks(), blockSize, width, dtype),
                b.cpu.kvCache(1, l.blocks(), blockSize, width, dtype)};
        try (KvCache g = caches[0]; KvCache c = caches[1]) {
            fillCache(l, seqs, width, caches);
            int tokens = l.batch().numTokens();
            float[] q = GpuBackends.gaussian(rnd, tokens * h * sh.qkHeadDim(), 1);
            float[][] out = new float[2][];
            for (int i = 0; i < 2; i++) {
                Backend be = b.backend(i == 0);
                Tensor qi = b.input(be, tokens, h * sh.qkHeadDim(), q);
                Tensor oi = be.activation(tokens, h * sh.vHeadDim());
                be.mlaAttention(qi, caches[i], 0, kvB[i], sh, l.batch(), mode, oi);
                out[i] = be.toHost(oi);
            }
            String absorbed = (dtype == KvCacheDtype.BF16 && MlaDecodeTc.supports(h, sh.kvLoraRank(),
                    sh.qkRopeHeadDim(), Integer.MAX_VALUE) ? (MlaDecodeTc.bulkCopy(b.cuda.ctx.device(),
                    CudaMlaAbsorbed.mlaDecodeBulk) ? "ls_mla_decode_tma" : "ls_mla_decode_tc") : "ls_mla_decode")
                    + "+combine";
            String kernel = switch (mode) {
                case ABSORBED -> absorbed + " (MLA absorbed)";
                case DECOMPRESSED -> flashPrefill(sh) ? "ls_mla_prefill_tc (MLA prefill)"
                        : gemmPrefill(l.batch()) ? "cuBLAS + ls_causal_softmax (MLA prefill)"
                        : "ls_attention (MLA prefill)";
                case AUTO -> (flashPrefill(sh) ? "ls_mla_prefill_tc" : "ls_attention") + " / " + absorbed
                        + " (MLA auto)";
            };
            GpuReport.check(kernel + (dtype == KvCacheDtype.BF16 ? " bf16 cache" : ""),
                    "H " + h + " r " + sh.kvLoraRank() + " " + l.text(), GpuReport.maxRelErr(out[0], out[1]), TOL);
        }
    }

    /** Whether the backend takes decompressed prefill of this shape to ls_mla_prefill_tc (the emulated GPU's opt-in). */
    static boolean flashPrefill(MlaShape sh) {
        return CudaAttention.flashPrefill && MlaPrefillTc.supports(sh.numHeads(), sh.qkNopeHeadDim(),
                sh.qkRopeHeadDim(), sh.vHeadDim(), 3, 232448);   // the backends here run at high precision
    }

    static boolean gemmPrefill(AttentionBatch batch) {
        List<Integer> all = new ArrayList<>();
        for (int s = 0; s < batch.numSeqs(); s++) {
            all.add(s);
        }
        return CudaMlaDecompressed.useGemmAttention(batch, all);
    }

    /**
     * Long prefill chunks (cuBLAS QKᵀ, causal softmax, P·V), continuing after cached context, query-chunked too;
     * with ls_mla_prefill_tc switched off, as -Dlatentserve.cuda.flashPrefill=false does, so V2's shapes take it.
     */
    @Test
    void mlaGemmPrefill() {
        MlaShape v2 = new MlaShape(16, 128, 64, 128, 512, 0.1147214f);
        MlaShape tiny = new MlaShape(4, 16, 8, 16, 32, 0.3244811f);
        boolean flash = CudaAttention.flashPrefill;
        long saved = CudaMlaDecompressed.gemmScoresBytes;
        CudaAttention.flashPrefill = false;
        try {
            mla(v2, 64, new int[][]{{200, 100}, {0, 150}, {63, 1}}, MlaMode.DECOMPRESSED);
            assertEquals(CudaMlaDecompressed.PrefillPath.GEMM, b.cuda.attention.lastPrefillPath());
            mla(tiny, 16, new int[][]{{0, 200}}, MlaMode.DECOMPRESSED);
            CudaMlaDecompressed.gemmScoresBytes = 4L * 4 * 7 * 260;   // tiny: chunks of 7 queries over 260 keys
            mla(tiny, 16, new int[][]{{60, 200}}, MlaMode.DECOMPRESSED);
        } finally {
            CudaMlaDecompressed.gemmScoresBytes = saved;
            CudaAttention.flashPrefill = flash;
        }
    }

    /**
     * ls_mla_prefill_tc at small dims it takes (2 heads, 16 + 16, dv 16): a fresh prompt of 40 tokens, chunked
     * prefill after a cached prefix (first new token at position 30), 70 tokens (a 64-query item and a 6-query
     * one, keys not a multiple of the 32-key tile), a one-token chunk, and AUTO over a bf16 cache with decode rows
     * (absorbed) beside prefill chunks; each against the CPU backend, and the backend really took the kernel.
     */
    @Test
    void mlaFlashPrefill() {
        MlaShape small = new MlaShape(2, 16, 16, 16, 32, 0.25f);
        assertTrue(CudaAttention.flashPrefill, "on by default");
        assertTrue(flashPrefill(small));
        mla(small, 16, new int[][]{{0, 40}}, MlaMode.DECOMPRESSED);
        assertEquals(CudaMlaDecompressed.PrefillPath.FLASH_TC, b.cuda.attention.lastPrefillPath());
        mla(small, 16, new int[][]{{30, 40}, {0, 70}, {5, 1}}, MlaMode.DECOMPRESSED);
        assertEquals(CudaMlaDecompressed.PrefillPath.FLASH_TC, b.cuda.attention.lastPrefillPath());
        mla(small, 16, new int[][]{{0, 37}, {70, 1}, {63, 2}}, MlaMode.AUTO, KvCacheDtype.BF16);
        assertEquals(CudaMlaDecompressed.PrefillPath.FLASH_TC, b.cuda.attention.lastPrefillPath());
    }

    /** V2-Lite's head dims (16 heads, 128 + 64, 128) on ls_mla_prefill_tc: a short prompt and a continued one. */
    @Test
    void mlaFlashPrefillV2LiteShapes() {
        MlaShape v2 = new MlaShape(16, 128, 64, 128, 512, 0.1147214f);
        mla(v2, 64, new int[][]{{0, 40}, {30, 9}}, MlaMode.DECOMPRESSED);
        assertEquals(CudaMlaDecompressed.PrefillPath.FLASH_TC, b.cuda.attention.lastPrefillPath());
    }

    /**
     * AUTO takes a short chunk after a longer cached prefix absorbed, through the decode kernels (each row attends
     * to the keys up to its own position), beside fresh prompts (decompressed) and decode rows; against the CPU
     * backend, which routes by the same rule (MlaMode.absorbs).
     */
    @Test
    void autoAbsorbsShortChunksAfterACachedPrefix() {
        MlaShape small = new MlaShape(4, 16, 16, 16, 32, 0.25f);
        mla(small, 16, new int[][]{{5, 1}}, MlaMode.AUTO);
        assertEquals("ls_mla_decode", b.cuda.attention.lastDecodeKernel(), "f32 cache");
        mla(small, 16, new int[][]{{300, 8}}, MlaMode.AUTO, KvCacheDtype.BF16);
        assertEquals("ls_mla_decode_tc", b.cuda.attention.lastDecodeKernel(), "the chunk ran absorbed");
        mla(small, 16, new int[][]{{100, MlaMode.AUTO_ABSORBED_MAX_TOKENS}, {0, 40}, {70, 1}, {9, 10}}, MlaMode.AUTO,
                KvCacheDtype.BF16);
        mla(small, 16, new int[][]{{40, 3}, {17, 20}}, MlaMode.AUTO);
        MlaShape v2 = new MlaShape(16, 128, 64, 128, 512, 0.1147214f);
        mla(v2, 64, new int[][]{{1000, 16}, {63, 1}}, MlaMode.AUTO, KvCacheDtype.BF16);
    }

    /** -Dlatentserve.cuda.flashPrefill=false: the same shapes go back to ls_attention (short) and cuBLAS (long). */
    @Test
    void mlaFlashPrefillSwitchedOff() {
        MlaShape small = new MlaShape(2, 16, 16, 16, 32, 0.25f);
        boolean flash = CudaAttention.flashPrefill;
        CudaAttention.flashPrefill = false;
        try {
            mla(small, 16, new int[][]{{0, 40}}, MlaMode.DECOMPRESSED);
            assertEquals(CudaMlaDecompressed.PrefillPath.CUDA_CORES, b.cuda.attention.lastPrefillPath());
            mla(small, 16, new int[][]{{0, 130}}, MlaMode.DECOMPRESSED);
            assertEquals(CudaMlaDecompressed.PrefillPath.GEMM, b.cuda.attention.lastPrefillPath());
        } finally {
            CudaAttention.flashPrefill = flash;
        }
    }

    @Test
    void mlaTinyShapes() {
        MlaShape tiny = new MlaShape(4, 16, 8, 16, 32, 0.3244811f);
        for (MlaMode mode : MlaMode.values()) {
            mla(tiny, 16, new int[][]{{0, 1}}, mode);
            mla(tiny, 16, new int[][]{{0, 37}, {70, 1}, {63, 2}, {0, 1}}, mode);
            mla(tiny, 1, new int[][]{{5, 3}, {0, 9}}, mode);
            mla(tiny, 64, new int[][]{{64, 1}, {127, 1}, {128, 5}}, mode);
        }
    }

    @Test
    void mlaV2LiteShapes() {
        MlaShape v2 = new MlaShape(16, 128, 64, 128, 512, 0.1147214f);
        for (MlaMode mode : MlaMode.values()) {
            mla(v2, 64, new int[][]{{0, 65}, {200, 1}, {63, 1}, {40, 24}}, mode);
        }
        mla(v2, 16, new int[][]{{1000, 1}, {0, 300}}, MlaMode.AUTO);
    }

    /** Decode batches (one new token per sequence) of the given context lengths: ls_mla_decode + ls_mla_combine. */
    void mlaDecode(MlaShape sh, int blockSize, int... contexts) {
        mlaDecode(sh, blockSize, KvCacheDtype.F32, contexts);
    }

    void mlaDecode(MlaShape sh, int blockSize, KvCacheDtype dtype, int... contexts) {
        int[][] seqs = new int[contexts.length][];
        for (int i = 0; i < contexts.length; i++) {
            seqs[i] = new int[]{contexts[i] - 1, 1};
        }
        mla(sh, blockSize, seqs, MlaMode.ABSORBED, dtype);
    }

    @Test
    void mlaDecodeTinyShapes() {
        MlaShape tiny = new MlaShape(4, 16, 8, 16, 32, 0.3244811f);
        mlaDecode(tiny, 16, 1, 63, 64, 65);
        mlaDecode(tiny, 1, 300, 2);
    }

    /** V2-Lite shapes (H 16, r 512, rope 64): short contexts (one split) and long ones (several, combined). */
    @Test
    void mlaDecodeV2LiteShapes() {
        MlaShape v2 = new MlaShape(16, 128, 64, 128, 512, 0.1147214f);
        mlaDecode(v2, 64, 1);
        mlaDecode(v2, 64, 1000, 63, 64, 65);
        mlaDecode(v2, 16, 4096);
        mlaDecode(v2, 64, 4000, 17, 2100);
    }

    /** Larger decode batches (64 sequences of up to ~4K keys); slow under the emulator, meant for the GPU. */
    @Test
    void mlaDecodeV2LiteBatches() {
        MlaShape v2 = new MlaShape(16, 128, 64, 128, 512, 0.1147214f);
        int[] contexts = new int[64];
        for (int i = 0; i < contexts.length; i++) {
            contexts[i] = 1 + rnd.nextInt(4096);
        }
        mlaDecode(v2, 64, contexts);
    }

    /** 128 heads (8 head groups per block row), as DeepSeek-V2 / V3. */
    @Test
    void mlaDecodeManyHeads() {
        MlaShape big = new MlaShape(128, 16, 64, 16, 512, 0.1f);
        mlaDecode(big, 64, 700, 1, 65);
    }

    void gqa(int heads, int kvHeads, int headDim, int blockSize, int[][] seqs) {
        gqa(heads, kvHeads, headDim, blockSize, seqs, KvCacheDtype.F32);
    }

    void gqa(int heads, int kvHeads, int headDim, int blockSize, int[][] seqs, KvCacheDtype dtype) {
        Layout l = layout(blockSize, seqs);
        int width = 2 * kvHeads * headDim;
        KvCache[] caches = {b.cuda.kvCache(1, l.blocks(), blockSize, width, dtype),
                b.cpu.kvCache(1, l.blocks(), blockSize, width, dtype)};
        try (KvCache g = caches[0]; KvCache c = caches[1]) {
            fillCache(l, seqs, width, caches);
            int tokens = l.batch().numTokens();
            float[] q = GpuBackends.gaussian(rnd, tokens * heads * headDim, 1);
            float scale = (float) (1 / Math.sqrt(headDim));
            float[][] out = new float[2][];
            for (int i = 0; i < 2; i++) {
                Backend be = b.backend(i == 0);
                Tensor qi = b.input(be, tokens, heads * headDim, q);
                Tensor oi = be.activation(tokens, heads * headDim);
                be.gqaAttention(qi, caches[i], 0, heads, kvHeads, headDim, scale, l.batch(), oi);
                out[i] = be.toHost(oi);
            }
            GpuReport.check("ls_attention (GQA)" + (dtype == KvCacheDtype.BF16 ? " bf16 cache" : ""), heads + "/" + kvHeads + " heads x " + headDim + " " + l.text(),
                    GpuReport.maxRelErr(out[0], out[1]), TOL);
        }
    }

    /**
     * A bf16 cache in every path that reads it: the decompressed gather (bf16 -> f32), ls_attention (absorbed over
     * several tokens, GQA over [K | V] with V at a bf16 offset) and ls_mla_decode (bf16 shared tiles; odd widths
     * take its per-value copies). Small shapes, so the emulation runs them in reasonable time.
     */
    @Test
    void bf16CacheTinyShapes() {
        MlaShape tiny = new MlaShape(4, 16, 8, 16, 32, 0.3244811f);
        MlaShape odd = new MlaShape(3, 8, 7, 8, 40, 0.3f);   // rows of 47 values: not 16-byte multiples in bf16
        for (MlaMode mode : MlaMode.values()) {
            mla(tiny, 16, new int[][]{{0, 37}, {70, 1}, {63, 2}, {0, 1}}, mode, KvCacheDtype.BF16);
        }
        mlaDecode(tiny, 16, KvCacheDtype.BF16, 1, 63, 64, 65);
        mlaDecode(odd, 16, KvCacheDtype.BF16, 70, 5, 33);
        gqa(6, 3, 40, 16, new int[][]{{31, 1}, {0, 32}}, KvCacheDtype.BF16);
        gqa(4, 2, 15, 1, new int[][]{{2, 3}}, KvCacheDtype.BF16);   // odd row width: values at odd element offsets
    }

    /** V2-Lite shapes over a bf16 cache: decode with one split and several, and a prefill continuing a prefix. */
    @Test
    void bf16CacheV2LiteShapes() {
        MlaShape v2 = new MlaShape(16, 128, 64, 128, 512, 0.1147214f);
        mlaDecode(v2, 64, KvCacheDtype.BF16, 1000, 63, 64, 65);
        mlaDecode(v2, 16, KvCacheDtype.BF16, 4096);
        mla(v2, 64, new int[][]{{200, 30}, {63, 1}}, MlaMode.AUTO, KvCacheDtype.BF16);
    }

    /**
     * Shapes ls_mla_decode_tc takes (r and r + dr multiples of 16) over a bf16 cache: decode rows go to the
     * tensor-core kernel (the V2-Lite case above too), in every mode and mixed with prefill chunks.
     */
    @Test
    void bf16CacheTensorCoreDecode() {
        MlaShape small = new MlaShape(4, 16, 16, 16, 32, 0.25f);
        assertTrue(MlaDecodeTc.supports(small.numHeads(), small.kvLoraRank(), small.qkRopeHeadDim(), 232448));
        mlaDecode(small, 16, KvCacheDtype.BF16, 1, 31, 32, 33, 300);
        mla(small, 16, new int[][]{{0, 37}, {70, 1}, {63, 1}, {0, 1}}, MlaMode.AUTO, KvCacheDtype.BF16);
        MlaShape manyHeads = new MlaShape(20, 16, 16, 16, 64, 0.2f);   // two head groups, the second padded
        mlaDecode(manyHeads, 64, KvCacheDtype.BF16, 5, 200);
    }

    /**
     * The same decode rows with -Dlatentserve.cuda.mlaDecodeBulk on: ls_mla_decode_tma (the bulk copy engine fills
     * the key tiles) against the CPU backend, where the GPU has it (compute capability 9.0; the emulated one does).
     */
    @Tag("mbarrier")
    @Test
    void bf16CacheBulkCopyDecode() {
        boolean saved = CudaMlaAbsorbed.mlaDecodeBulk;
        CudaMlaAbsorbed.mlaDecodeBulk = true;
        try {
            MlaShape small = new MlaShape(4, 16, 16, 16, 32, 0.25f);
            mlaDecode(small, 16, KvCacheDtype.BF16, 1, 31, 32, 33, 300);
            assertEquals(MlaDecodeTc.bulkCopy(b.cuda.ctx.device(), true)
                    ? "ls_mla_decode_tma" : "ls_mla_decode_tc", b.cuda.attention.lastDecodeKernel());
            MlaShape manyHeads = new MlaShape(20, 16, 16, 16, 64, 0.2f);   // two head groups, the second padded
            mlaDecode(manyHeads, 64, KvCacheDtype.BF16, 5, 200);
        } finally {
            CudaMlaAbsorbed.mlaDecodeBulk = saved;
        }
        MlaShape small = new MlaShape(4, 16, 16, 16, 32, 0.25f);
        mlaDecode(small, 16, KvCacheDtype.BF16, 7, 40);
        assertEquals("ls_mla_decode_tc", b.cuda.attention.lastDecodeKernel(), "off again: the cp.async variant");
    }

    @Test
    void gqaShapes() {
        gqa(4, 4, 16, 16, new int[][]{{0, 7}, {3, 1}});
        gqa(8, 2, 128, 16, new int[][]{{0, 33}, {15, 1}, {16, 1}, {17, 2}});
        gqa(32, 32, 128, 64, new int[][]{{0, 65}, {100, 1}});
        gqa(64, 8, 128, 1, new int[][]{{2, 3}});
        gqa(6, 3, 40, 16, new int[][]{{31, 1}, {0, 32}});
    }
}
