package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.KernelLimits;

import java.util.Arrays;

/**
 * How ls_mla_decode cuts the keys of a decode batch into splits: work items {row, seq, start, end}, each one
 * block per group of {@link KernelLimits#mlaHeadsPerBlock()} heads, a row's items consecutive, and
 * splitBase[row] .. splitBase[row+1] naming them (ls_mla_combine merges rows of more than one).
 *
 * <p>The rule: one chunk length for the whole batch (a multiple of the kernel's key tile: 16 keys for
 * ls_mla_decode, {@link KernelLimits#MLA_TC_TILE} for ls_mla_decode_tc, so no split ends in a part tile the
 * kernel would mask), chosen among the
 * lengths that cut the longest context into 1, 2, ... splits (none below {@code minChunk}) to minimise the estimated time
 * {@code waves * (chunk + SPLIT_OVERHEAD_ROWS)}, where {@code waves = ceil(blocks / residentBlocks)} and
 * residentBlocks = SMs x blocks an SM holds at once. Blocks run about chunk rows each, so this fills the
 * GPU with whole waves (total blocks near a multiple of the SM count) and stops splitting once more splits
 * would only add waves. The overhead term stands for what every extra split costs besides its rows (the 16
 * heads' queries read again, a partial of 16 x 512 floats written and read back by the combine), about
 * 32 latent rows' worth of traffic. Short contexts (at most minChunk) never split, a row never gets more
 * than {@link KernelLimits#MLA_MAX_SPLITS}, and each row's chunks are evened out (ceil(len / splits),
 * rounded up to the tile) so its last chunk is not a sliver.
 *
 * <p>Computed once per forward pass: the batch's context lengths and the head count are the same in every
 * layer, so {@link CudaMlaAbsorbed} keeps the last plan keyed on the AttentionBatch instance.
 *
 * <p>The launch covers {@link #launchItems()} items, the item count rounded up to a power of two, the extra
 * ones padding (row -1) whose blocks exit at once: as contexts grow during decode the chunks and item count
 * change every few steps, the launch shape (grid, parameters, scratch sizes) only when the count crosses a
 * power of two, so a CUDA graph of the step keeps replaying (StepGraphs keys graphs on exactly that shape).
 */
public record MlaDecodePlan(int[] work, int[] splitBase, int chunk, int headGroups) {
    /**
     * ls_mla_decode blocks one SM runs at once: ~148 registers x 256 threads (ptxas, sm_90a) leave room for one
     * (two would need at most 128 registers a thread); its 3 x 36 KiB of tile buffers would allow two on Hopper.
     */
    public static final int RESIDENT_BLOCKS_PER_SM = 1;
    /** Default shortest chunk: below it a split costs about as much as the rows it saves. */
    public static final int DEFAULT_MIN_CHUNK = 128;
    static final int SPLIT_OVERHEAD_ROWS = 32;

    /**
     * @param seqOf          sequence (block table row) of each query row
     * @param contextLengths keys each row sees (its position + 1), each at least 1
     * @param smCount        streaming multiprocessors of the GPU (DeviceInfo.multiprocessors())
     * @param minChunk       shortest chunk a context is cut into (rounded up to the tile)
     * @param tile           keys the kernel takes per tile: every chunk is a multiple of it
     */
    public static MlaDecodePlan of(int[] seqOf, int[] contextLengths, int numHeads, int smCount, int minChunk,
                                   int tile) {
        if (seqOf.length != contextLengths.length || numHeads < 1 || smCount < 1 || minChunk < 1 || tile < 1) {
            throw new IllegalArgumentException("decode plan: " + seqOf.length + " rows with " + contextLengths.length
                    + " lengths, " + numHeads + " heads, " + smCount + " SMs, min chunk " + minChunk + ", tile "
                    + tile);
        }
        int maxLen = 1;
        for (int len : contextLengths) {
            if (len < 1) {
                throw new IllegalArgumentException("a decode row sees " + len + " keys");
            }
            maxLen = Math.max(maxLen, len);
        }
        int groups = KernelLimits.blocks(numHeads, KernelLimits.mlaHeadsPerBlock());
        int chunk = chooseChunk(contextLengths, groups, (long) smCount * RESIDENT_BLOCKS_PER_SM,
                roundUp(minChunk, tile), maxLen, tile);
        int[] splitBase = new int[contextLengths.length + 1];
        int items = 0;
        for (int w = 0; w < contextLengths.length; w++) {
            items += evenChunks(contextLengths[w], chunk, tile)[0];
            splitBase[w + 1] = items;
        }
        int[] work = new int[4 * items];
        for (int w = 0, i = 0; w < contextLengths.length; w++) {
            int[] even = evenChunks(contextLengths[w], chunk, tile);
            for (int k = 0; k < even[0]; k++, i++) {
                work[4 * i] = w;
                work[4 * i + 1] = seqOf[w];
                work[4 * i + 2] = k * even[1];
                work[4 * i + 3] = Math.min(contextLengths[w], (k + 1) * even[1]);
            }
        }
        return new MlaDecodePlan(work, splitBase, chunk, groups);
    }

    /** The plan of ls_mla_decode's 16-key tiles. */
    public static MlaDecodePlan of(int[] seqOf, int[] contextLengths, int numHeads, int smCount, int minChunk) {
        return of(seqOf, contextLengths, numHeads, smCount, minChunk, KernelLimits.MLA_TILE);
    }

    /** The plan of ls_mla_decode's 16-key tiles for the given GPU with the default minimum chunk. */
    public static MlaDecodePlan of(int[] seqOf, int[] contextLengths, int numHeads, int smCount) {
        return of(seqOf, contextLengths, numHeads, smCount, DEFAULT_MIN_CHUNK);
    }

    private static int chooseChunk(int[] lengths, int groups, long resident, int minChunk, int maxLen, int tile) {
        int shortest = Math.max(minChunk, roundUp(ceilDiv(maxLen, KernelLimits.MLA_MAX_SPLITS), tile));
        int best = Math.max(shortest, roundUp(maxLen, tile));
        double bestCost = Double.MAX_VALUE;
        // Candidates: the chunk lengths that cut the longest row into 1, 2, ... splits (where its block count
        // changes), no shorter than the minimum chunk.
        for (int splits = 1; splits <= KernelLimits.MLA_MAX_SPLITS; splits++) {
            int c = Math.max(shortest, roundUp(ceilDiv(maxLen, splits), tile));
            long blocks = 0;
            for (int len : lengths) {
                blocks += (long) groups * evenChunks(len, c, tile)[0];
            }
            double cost = (double) ceilDiv(blocks, resident) * (c + SPLIT_OVERHEAD_ROWS);
            if (cost < bestCost) {   // fewer splits first: on a tie the plan with fewer partials stays
                bestCost = cost;
                best = c;
            }
            if (c == shortest) {
                break;
            }
        }
        return best;
    }

    /** {splits, chunk length} of a context of len keys cut into chunks of at most chunk keys, evened out. */
    private static int[] evenChunks(int len, int chunk, int tile) {
        int splits = ceilDiv(len, chunk);
        int even = roundUp(ceilDiv(len, splits), tile);
        return new int[]{ceilDiv(len, even), even};
    }

    private static int roundUp(int n, int tile) {
        return ceilDiv(n, tile) * tile;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** Items the kernel is launched over: {@link #numWork()} rounded up to a power of two. */
    public int launchItems() {
        int n = numWork();
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }

    /** {@link #work()} followed by padding items {-1, -1, 0, 0} up to {@link #launchItems()}. */
    public int[] launchWork() {
        int[] padded = Arrays.copyOf(work, 4 * launchItems());
        for (int i = work.length; i < padded.length; i += 4) {
            padded[i] = -1;
            padded[i + 1] = -1;
        }
        return padded;
    }

    public int rows() {
        return splitBase.length - 1;
    }

    public int numWork() {
        return work.length / 4;
    }

    /** Splits of row w. */
    public int splits(int w) {
        return splitBase[w + 1] - splitBase[w];
    }

    /** Whether any row has more than one split (else ls_mla_combine has nothing to do). */
    public boolean needsCombine() {
        return numWork() > rows();
    }

    @Override
    public String toString() {
        return "MlaDecodePlan[" + rows() + " rows, " + numWork() + " items x " + headGroups + " head groups, chunk "
                + chunk + ", splits " + Arrays.toString(Arrays.copyOf(splitsPerRow(), Math.min(8, rows()))) + "]";
    }

    private int[] splitsPerRow() {
        int[] s = new int[rows()];
        for (int w = 0; w < s.length; w++) {
            s[w] = splits(w);
        }
        return s;
    }
}
