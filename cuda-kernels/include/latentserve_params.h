/*
 * LatentServe kernel parameter structs and the limits shared with Java.
 *
 * Every kernel takes exactly one argument: one of the structs below, by value. Each struct is mirrored
 * by a record in io.latentserve.cuda.kernels with a java.lang.foreign StructLayout; the test
 * KernelParamsLayoutTest parses THIS FILE (the struct bodies and the #define lines) and checks the Java
 * layouts' sizes and field offsets against it, so the rules below keep the parse simple:
 *   - fields are only `ls_ptr` (a device address, 8 bytes), `int` (4 bytes) or `float` (4 bytes);
 *   - one field per line, `type name;`, pointers first, then the 4-byte fields;
 *   - every struct ends on an 8-byte boundary (an explicit `int pad...;` where needed), so C adds no
 *     hidden padding and the Java layout lists every byte.
 * A null pointer (0) means "absent" where a comment says so. Shapes and limits are checked in Java
 * before launch (io.latentserve.cuda.backend); the kernels trust them.
 *
 * Data types: activations are f32 row-major with a row stride in elements (column views of a wider
 * activation share its storage); weights are bf16 or f32 (LS_DTYPE_*), row-major, dense; the KV cache
 * is f32 or bf16 (LS_DTYPE_*, the server's --kv-cache-dtype): bf16 values are rounded to nearest even when
 * written (ls_copy_rows) and widened exactly when read, as the CPU backend's bf16 cache does.
 */
#ifndef LATENTSERVE_PARAMS_H
#define LATENTSERVE_PARAMS_H

typedef unsigned long long ls_ptr;

/* ---- data types of weights and of the KV cache ---- */
#define LS_DTYPE_F32 0
#define LS_DTYPE_BF16 1

/* ---- real compile-time limits (checked in Java before launch) ---- */
/* threads of one block of the element-wise and row kernels */
#define LS_THREADS 256
/* warps of one attention block; each warp walks every LS_ATTN_WARPS-th key position */
#define LS_ATTN_WARPS 8
/* values per lane kept in registers by ls_attention: the value width dv is at most 32 x this */
#define LS_ATTN_MAX_V_PER_LANE 16
#define LS_ATTN_MAX_DV 512
/* the query of one head lives in shared memory: d1 + d2 at most this (keeps the block under 48 KB) */
#define LS_ATTN_MAX_QK 2048
/* MoE routing keeps the scores of one token in shared memory */
#define LS_MOE_MAX_EXPERTS 1024
/* threads of one sampling block (one block per sampled row) */
#define LS_SAMPLE_THREADS 1024
/* ls_sample's candidate list: entries per thread the server launches with (16 bytes each: 96 KiB of dynamic shared
 * memory at 1024 threads, under every supported GPU's opt-in limit), and the list holds the best
 * threads * entries / LS_SAMPLE_LIST_SPARSITY tokens of a row, so a thread rarely has more of them than entries */
#define LS_SAMPLE_LIST_PER_THREAD 6
#define LS_SAMPLE_LIST_SPARSITY 6
/* ls_logit_edits: a bias at or below this bans the token (-inf), as LogitEdits.BAN */
#define LS_LOGIT_BAN -100
/* threads of one RoPE block (one block per row and head; the kernel loops over the pairs) */
#define LS_ROPE_THREADS 64
/* ls_gemv: most activation rows per launch (accumulators per lane), output features per block (a warp each) */
#define LS_GEMV_MAX_ROWS 8
#define LS_GEMV_FEATURES 8
/* ls_mla_decode: warps of a block, heads each warp owns (block = 16 heads), latent rows per shared tile */
#define LS_MLA_DECODE_WARPS 8
#define LS_MLA_HEADS_PER_WARP 2
#define LS_MLA_TILE 16
/* ls_mla_decode: shared-memory tile buffers of its cp.async pipeline (STAGES-1 tiles in flight while one is
 * computed); dynamic shared memory LS_MLA_STAGES*LS_MLA_TILE*ceil16(e*(r + dr)) bytes (e = 4 f32 or 2 bf16
 * bytes a value, rows padded to 16 bytes), above the 48 KB default for f32:
 * the launcher opts in (cuFuncSetAttribute MAX_DYNAMIC_SHARED_SIZE_BYTES) */
#define LS_MLA_STAGES 3
/* ls_mla_decode keeps per lane r/32 value and (r+dr)/32 query registers: r at most this, r + dr at most that */
#define LS_MLA_MAX_R 512
#define LS_MLA_MAX_QK 576
/* ls_mla_decode_tc (tensor cores, bf16 latent cache): warps of a block (a block serves LS_MLA_TC_HEADS heads,
 * the M of every mma), cache rows per shared tile, tile buffers of its cp.async ring, and the warps that split
 * the r + dr dims of Q.K^T (the other WARPS / KSPLIT warp groups split the tile's keys). Its r is at most
 * LS_MLA_MAX_R and r + dr at most LS_MLA_MAX_QK (register arrays), both multiples of 16. */
#define LS_MLA_TC_WARPS 8
#define LS_MLA_TC_HEADS 16
#define LS_MLA_TC_TILE 32
#define LS_MLA_TC_STAGES 4
#define LS_MLA_TC_KSPLIT 4
/* ls_mla_prefill_tc (tensor cores, FlashAttention-2 form of MLA prefill over the decompressed keys): warps of a
 * block (each owns 16 query rows, the mma's M: a block serves LS_MLA_PF_QUERIES queries of one sequence and one
 * head), keys per shared tile, tile buffers of its cp.async ring, and the largest dn + dr and dv it keeps in
 * registers (multiples of 16 up to these). */
#define LS_MLA_PF_WARPS 4
#define LS_MLA_PF_QUERIES 64
#define LS_MLA_PF_KEYS 32
#define LS_MLA_PF_STAGES 2
#define LS_MLA_PF_MAX_QK 192
#define LS_MLA_PF_MAX_DV 128
/* splits of one query row that ls_mla_combine merges (its factors live in shared memory) */
#define LS_MLA_MAX_SPLITS 128
/* output rows of one ls_moe_gate_up block (8 warps x 2 rows, each of gate and up) and of one ls_moe_down
 * block (8 warps x 4 rows): the launch's grid y is ceil(inter / this) resp. ceil(hidden / this) */
#define LS_MOE_GATE_UP_ROWS 16
#define LS_MOE_DOWN_ROWS 32
/* ls_moe_gate_up_tc / ls_moe_down_tc (tensor cores, bf16 weights): output features of one block (8 warps x one
 * mma n-tile of 8 each; grid y is ceil(outFeatures / this)); input widths (hidden, inter) must be multiples of
 * LS_MOE_TC_K (the mma's k) */
#define LS_MOE_TC_FEATURES 64
#define LS_MOE_TC_K 16
/* ls_moe_gate_up_wgmma / ls_moe_down_wgmma (Hopper wgmma, sm_90a only, bf16 weights and bf16 activation terms;
 * input widths multiples of LS_MOE_TC_K): threads of a block (a producer warpgroup and two consumer warpgroups),
 * gathered rows of one expert per block tile (64 per consumer, the wgmma's M), output features per block
 * (gate/up: 128 gate + 128 up rows = the wgmma's N of 256; down: 256), input values per pipeline stage (one
 * 128-byte swizzled row), and the block's dynamic shared memory in bytes: 192 KiB of stages (3 with both
 * activation terms, 4 with one), 64 bytes of barriers, 1 KiB to align the stages (above the 48 KiB default: the
 * launcher opts in). A persistent grid: the blocks (at most one per SM is useful: one fits) take the work items
 * (m-tile, feature tile) in turn; numExperts at most MAX_EXPERTS. */
#define LS_MOE_WG_THREADS 384
#define LS_MOE_WG_ROWS 128
#define LS_MOE_WG_GATE_UP_FEATURES 128
#define LS_MOE_WG_DOWN_FEATURES 256
#define LS_MOE_WG_KC 64
#define LS_MOE_WG_SMEM 197696
#define LS_MOE_WG_MAX_EXPERTS 512
/* A CUtensorMap (cuTensorMapEncodeTiled): 128 opaque bytes, 64-byte aligned. The wgmma MoE kernels' weight maps:
 * bf16, rank 2 (inner: the K values of a row), boxes of 64 values x 128 rows (gate, up) or x 256 rows (down), 128-byte
 * swizzle, zeros past the edges. */
#define LS_TENSOR_MAP_BYTES 128

/* ---- reference sizes of DeepSeek-V2 MLA (NOT limits: every kernel takes its dims as parameters) ---- */
#define LS_MLA_LATENT 512
#define LS_MLA_ROPE 64

/* ---- RoPE pairing ---- */
#define LS_ROPE_INTERLEAVED 0
#define LS_ROPE_SPLIT_HALF 1

/*
 * ls_embedding: out[t, :] = widen(table[ids[t], :]) for t < rows.
 * grid (rows), block LS_THREADS.
 */
typedef struct {
    ls_ptr table;       /* [vocab, cols] bf16 or f32 */
    ls_ptr ids;         /* [rows] int32, each in [0, vocab) */
    ls_ptr out;         /* [rows, cols] f32, row stride outStride */
    int rows;
    int cols;
    int tableDtype;     /* LS_DTYPE_* */
    int outStride;
} LsEmbeddingParams;

/*
 * ls_rmsnorm: per row, optionally x += residual first (written back to x: the fused residual add), then
 * out = x * rsqrt(mean(x^2) + eps) * weight in f32, as the CPU backend computes it. x and out may alias.
 * grid (rows), block LS_THREADS.
 */
typedef struct {
    ls_ptr x;           /* [rows, cols] f32, stride xStride */
    ls_ptr residual;    /* [rows, cols] f32, stride residualStride, or 0 for a plain RMSNorm */
    ls_ptr weight;      /* [cols] bf16 or f32 */
    ls_ptr out;         /* [rows, cols] f32, stride outStride */
    int rows;
    int cols;
    int xStride;
    int residualStride;
    int outStride;
    int weightDtype;
    float eps;
    int pad0;
} LsRmsNormParams;

/*
 * ls_add: out = a + b element-wise over [rows, cols] (out may alias a or b).
 * grid (rows, ceil(cols / LS_THREADS)), block LS_THREADS.
 */
typedef struct {
    ls_ptr a;
    ls_ptr b;
    ls_ptr out;
    int rows;
    int cols;
    int aStride;
    int bStride;
    int outStride;
    int pad0;
} LsAddParams;

/*
 * ls_silu_mul: out = silu(gate) * up, silu(z) = z / (1 + exp(-z)) (out may alias gate or up).
 * grid (rows, ceil(cols / LS_THREADS)), block LS_THREADS.
 */
typedef struct {
    ls_ptr gate;
    ls_ptr up;
    ls_ptr out;
    int rows;
    int cols;
    int gateStride;
    int upStride;
    int outStride;
    int pad0;
} LsSiluMulParams;

/*
 * ls_rope: rotates in place, for each row t and head h, the 2*half dims starting at column
 * h*headStride + ropeOffset by the angle of position positions[t]: (a, b) -> (a*cos - b*sin, a*sin + b*cos).
 * cos/sin come from tables the backend fills on the host with the CPU backend's own arithmetic
 * ((float) StrictMath.cos(pos * invFreq[i]) * amplitude), so both backends rotate identically; positions
 * are below tableRows. Pairs are (2i, 2i+1) for LS_ROPE_INTERLEAVED, (i, i+half) for LS_ROPE_SPLIT_HALF.
 * grid (rows, numHeads), block LS_ROPE_THREADS.
 */
typedef struct {
    ls_ptr x;           /* [rows, stride] f32 */
    ls_ptr positions;   /* [rows] int32 */
    ls_ptr cosTable;    /* [tableRows, half] f32 */
    ls_ptr sinTable;    /* [tableRows, half] f32 */
    int rows;
    int stride;
    int numHeads;
    int headStride;
    int ropeOffset;
    int half;
    int style;          /* LS_ROPE_* */
    int tableRows;
} LsRopeParams;

/*
 * ls_mla_latent: MLA's latent rows finished and cached in one launch: per row t of kv = [c (r values) | k_pe (dr)],
 * c = c * rsqrt(mean(c^2) + eps) * weight in place (as ls_rmsnorm), k_pe rotated in place at positions[t] (as
 * ls_rope with one head, the same tables and style), then the row into cache row slots[t] in the cache's dtype
 * (as ls_copy_rows: f32, or bf16 rounded to nearest even). Bit for bit the three kernels' results.
 * grid (rows), block LS_THREADS.
 */
typedef struct {
    ls_ptr kv;          /* [rows, r + dr] f32, stride kvStride */
    ls_ptr weight;      /* [r] kv_a_layernorm weight, bf16 or f32 */
    ls_ptr positions;   /* [rows] int32 */
    ls_ptr cosTable;    /* [tableRows, dr / 2] f32 */
    ls_ptr sinTable;    /* [tableRows, dr / 2] f32 */
    ls_ptr cache;       /* the layer's cache: [slots, r + dr] in cacheDtype */
    ls_ptr slots;       /* [rows] int32 cache rows */
    int rows;
    int r;
    int dr;
    int kvStride;
    int weightDtype;
    int style;          /* LS_ROPE_* */
    int tableRows;
    int cacheDtype;     /* LS_DTYPE_F32 or LS_DTYPE_BF16 */
    float eps;
    int pad0;
} LsMlaLatentParams;

/*
 * ls_copy_rows: dst[dstIndex[i], :] = src[srcIndex[i], :] for i < rows, cols values per row, each side f32 or
 * bf16 (LS_DTYPE_*; strides in elements of that side): f32 -> bf16 rounds to nearest even (the bf16 KV cache's
 * write), bf16 -> f32 widens exactly (its gather), same types copy bits. A null index means the identity.
 * Writes the KV cache through the slot mapping (dstIndex = slots), gathers cache rows of a context
 * (srcIndex = slots) and gathers tokens by expert (srcIndex = tokens).
 * grid (rows, ceil(cols / LS_THREADS)), block LS_THREADS.
 */
typedef struct {
    ls_ptr src;
    ls_ptr srcIndex;    /* [rows] int32 or 0 */
    ls_ptr dst;
    ls_ptr dstIndex;    /* [rows] int32 or 0 */
    int rows;
    int cols;
    int srcStride;
    int dstStride;
    int srcDtype;       /* LS_DTYPE_* */
    int dstDtype;       /* LS_DTYPE_* */
} LsCopyRowsParams;

/*
 * ls_split_bf16: x (f32) = hi + lo + O(2^-18 |x|) with hi = bf16(x), lo = bf16(x - hi); writes
 * out[t, :] = hi and out[rows + t, :] = lo (bf16, dense [2*rows, cols]). One bf16 GEMM of the stacked
 * rows against bf16 weights, then out = C[:rows] + C[rows:], gives x * W^T close to f32 accuracy.
 * hiOnly != 0 writes only the hi rows (out is [rows, cols]): x rounded to bf16, nearest even, the GEMM
 * input of --matmul-precision medium.
 * grid (rows, ceil(cols / LS_THREADS)), block LS_THREADS.
 */
typedef struct {
    ls_ptr x;           /* [rows, cols] f32, stride xStride */
    ls_ptr out;         /* [2*rows, cols] bf16 ([rows, cols] when hiOnly) */
    int rows;
    int cols;
    int xStride;
    int hiOnly;         /* 0: hi and lo rows; 1: hi rows only */
} LsSplitBf16Params;

/*
 * ls_attention: causal softmax attention of one (work item, head) per block, over key positions
 * 0..positions[w] of the work item's sequence, with an online (flash-style) softmax in f32.
 *   query     q + qRow*qStride + h*qHeadStride: [d1 | d2] f32; qRow = tokenRows[w] (identity when 0)
 *   key row   r(s) = paged:      blockTables[seqOf[w]*maxBlocks + s/blockSize]*blockSize + s%blockSize
 *                    contiguous: ctxBase[seqOf[w]] + s                       (when blockTables is 0)
 *   key       [k1 + r*k1Stride + g*k1HeadStride : d1 | k2 + r*k2Stride + g*k2HeadStride : d2], g = h / groupSize
 *   value     v + r*vStride + g*vHeadStride : dv
 *   score     (q . key) * scale;   out + qRow*outStride + h*outHeadStride : dv = sum softmax(score) * value
 * Serves MLA prefill (k1 = decompressed k_nope, k2 = gathered k_pe, contiguous), MLA absorbed decode
 * (q = [W_UK^T q_nope | q_pe], key = the whole latent cache row, value = its first r values, paged,
 * groupSize = numHeads) and MHA/GQA over a [K | V] paged cache. k1, k2 and v are all f32 or all bf16
 * (kvDtype: the paged cache may be bf16; strides and head strides count elements), widened exactly.
 * grid (numWork, numHeads), block 32*LS_ATTN_WARPS, dynamic shared memory
 * 4*(d1 + d2 + LS_ATTN_WARPS*(dv + 2)) bytes.
 */
typedef struct {
    ls_ptr q;
    ls_ptr k1;
    ls_ptr k2;          /* 0 when d2 == 0 */
    ls_ptr v;
    ls_ptr out;
    ls_ptr tokenRows;   /* [numWork] int32 or 0 */
    ls_ptr positions;   /* [numWork] int32: last visible key position */
    ls_ptr seqOf;       /* [numWork] int32 */
    ls_ptr blockTables; /* [numSeqs, maxBlocks] int32, or 0 for contiguous keys */
    ls_ptr ctxBase;     /* [numSeqs] int32 (contiguous keys), or 0 */
    int numWork;
    int numHeads;
    int groupSize;
    int d1;
    int d2;
    int dv;
    int qStride;
    int qHeadStride;
    int k1Stride;
    int k1HeadStride;
    int k2Stride;
    int k2HeadStride;
    int vStride;
    int vHeadStride;
    int outStride;
    int outHeadStride;
    int blockSize;
    int maxBlocks;
    float scale;
    int kvDtype;        /* LS_DTYPE_* of k1, k2 and v */
} LsAttentionParams;

/*
 * ls_mla_absorb_q: the absorbed MLA query. For work item w (token row t = tokenRows[w]) and head h:
 *   qa[w, h, 0:r]     = W_UK_h^T q_nope   (sum over j < dn of q[t, h*(dn+dr) + j] * kvB[h*(dn+dv) + j, :])
 *   qa[w, h, r:r+dr]  = q_pe              (q[t, h*(dn+dr) + dn + i])
 * grid (numWork, numHeads * ceil(r / 32)) (blockIdx.y = head * tiles + 32-column tile), block LS_THREADS.
 */
typedef struct {
    ls_ptr q;           /* [T, H*(dn+dr)] f32, stride qStride */
    ls_ptr kvB;         /* [H*(dn+dv), r] bf16 or f32 */
    ls_ptr qa;          /* [numWork, H, r+dr] f32 */
    ls_ptr tokenRows;   /* [numWork] int32 */
    int numWork;
    int numHeads;
    int dn;
    int dr;
    int dv;
    int r;
    int qStride;
    int kvBDtype;
} LsMlaAbsorbParams;

/*
 * ls_mla_apply_uv: out[tokenRows[w], h*dv + i] = sum_c kvB[h*(dn+dv) + dn + i, c] * oLatent[w, h, c].
 * grid (numWork, numHeads * ceil(dv / 16)) (blockIdx.y = head * tiles + tile of 16 values), block LS_THREADS
 * (one warp per output value i, lanes over c).
 */
typedef struct {
    ls_ptr oLatent;     /* [numWork, H, r] f32 */
    ls_ptr kvB;         /* [H*(dn+dv), r] bf16 or f32 */
    ls_ptr out;         /* [T, H*dv] f32, stride outStride */
    ls_ptr tokenRows;   /* [numWork] int32 */
    int numWork;
    int numHeads;
    int dn;
    int dv;
    int r;
    int outStride;
    int kvBDtype;
    int pad0;
} LsMlaApplyUvParams;

/*
 * ls_moe_route: DeepSeek-V2 routing of one token per block from its router logits (MODEL_SPEC 3.4):
 * softmax over the experts, greedy or group-limited top-k (ties to the lower id), then the weights
 * w / (sum w + 1e-20) when normTopkProb and topK > 1, else s * routedScalingFactor.
 * grid (rows), block LS_THREADS, dynamic shared memory 4*numExperts + 4*numGroups + numExperts bytes (rounded).
 */
typedef struct {
    ls_ptr logits;      /* [rows, numExperts] f32, stride logitsStride */
    ls_ptr experts;     /* [rows, topK] int32 out */
    ls_ptr weights;     /* [rows, topK] f32 out */
    int rows;
    int numExperts;
    int logitsStride;
    int topK;
    int groupLimited;   /* 0 or 1 */
    int numGroups;
    int topkGroup;
    int normTopkProb;   /* 0 or 1 */
    float routedScalingFactor;
    int pad0;
} LsMoeRouteParams;

/*
 * ls_moe_combine: out[t, :] += sum_k weight[t*topK + k] * y[row[t*topK + k], :], the k in the order
 * given (the backend lists each token's experts in ascending expert id, as the CPU backend adds them).
 * grid (rows, ceil(cols / LS_THREADS)), block LS_THREADS.
 */
typedef struct {
    ls_ptr y;           /* [pairs, cols] f32, dense */
    ls_ptr pairRows;    /* [rows, topK] int32: row of y */
    ls_ptr pairWeights; /* [rows, topK] f32 */
    ls_ptr out;         /* [rows, cols] f32, stride outStride */
    int rows;
    int cols;
    int topK;
    int outStride;
} LsMoeCombineParams;

/*
 * ls_sample: one token per row of logits, one block per row. temperature 0 (invTemperature 0) is
 * greedy (argmax, lowest id on ties). Otherwise, as the server's Sampler: processed = logit *
 * invTemperature (f64), weights exp(processed - max); top-k (0 = off) keeps the k best (higher logit,
 * then lower id), top-p (>= 1 = off) keeps the smallest best-first prefix holding at least topP of
 * the kept mass; then an inverse-CDF draw of uniform[row] in [0, 1) over the candidates, best first
 * (in id order when neither top-k nor top-p truncates). Deterministic for given inputs, and the same token
 * for any listPerThread (the list only saves passes over the row and recomputed exps; sampling.cu).
 * tokens[row] = -1 when every logit is -inf, -2 when one is NaN or +inf (the host Sampler refuses both).
 * grid (rows), block LS_SAMPLE_THREADS, dynamic shared memory 16 * LS_SAMPLE_THREADS * listPerThread bytes.
 */
typedef struct {
    ls_ptr logits;          /* [rows, vocab] f32, stride logitsStride */
    ls_ptr invTemperature;  /* [rows] f64: 1 / temperature, 0 for greedy */
    ls_ptr topK;            /* [rows] int32 */
    ls_ptr topP;            /* [rows] f64 */
    ls_ptr uniform;         /* [rows] f64 in [0, 1) */
    ls_ptr tokens;          /* [rows] int32 out */
    int rows;
    int vocab;
    int logitsStride;
    int listPerThread;      /* candidate list entries per thread (0: none, every pass reads the row) */
} LsSampleParams;

/*
 * ls_logit_edits: the logit bias and the repetition / presence / frequency penalties of LogitEdits (model module),
 * applied in place to rows of f32 logits before ls_sample, with its stages' exact arithmetic: each in f64 from the
 * f32 value, rounded to f32 (round to nearest, no contraction):
 *   bias != 0:                      v = bias <= LS_LOGIT_BAN ? -inf : (float) ((double) v + bias)
 *   seen && repetition != 1:        v = (float) (v > 0 ? v / repetition : v * repetition)
 *   generated > 0 && (presence != 0 || frequency != 0):
 *                                   v = (float) (v - (frequency * generated + presence))
 * Entry e of row r (entryStart[r] <= e < entryStart[r + 1]) edits logit tokens[e] of that row; a row's tokens are
 * distinct and below the vocabulary (checked in Java). A NaN or +inf logit is left as it is, so that ls_sample
 * still reports the row as broken, as the host rules do for the logits before the edits.
 * Pending token (async scheduling, LogitEdits.pendingRow): where pendingRow[r] >= 0, t = previousTokens[pendingRow[r]]
 * (the previous pass's token, still on the device) counts as one more generated token: the entry of token t with
 * generated + 1 and seen, or, when the row has none, a new entry (bias 0, generated 1, seen) applied after the
 * others; a negative t (ls_sample's mark of a broken row, which the host reports) adds nothing.
 * grid (rows), block LS_THREADS (threads stride over a row's entries; a row without entries or pending token
 * returns at once).
 */
typedef struct {
    ls_ptr logits;          /* [rows, vocab] f32, stride logitsStride, edited in place */
    ls_ptr entryStart;      /* [rows + 1] int32: row r's entries are entryStart[r] .. entryStart[r + 1] - 1 */
    ls_ptr tokens;          /* [entries] int32 */
    ls_ptr bias;            /* [entries] f32: 0 for none */
    ls_ptr generated;       /* [entries] int32: occurrences among the generated tokens */
    ls_ptr seen;            /* [entries] int32: 1 where the token is in the prompt or generated, else 0 */
    ls_ptr repetition;      /* [rows] f64: 1 for none */
    ls_ptr presence;        /* [rows] f64 */
    ls_ptr frequency;       /* [rows] f64 */
    ls_ptr pendingRow;      /* [rows] int32: -1, or the row of previousTokens counted as one more generated token */
    ls_ptr previousTokens;  /* the previous pass's sampled tokens (int32), or 0 when no row has a pending token */
    int rows;
    int logitsStride;
} LsLogitEditsParams;

/*
 * ls_fill_hashed: element i of the tensor (count elements, bf16 or f32 by dtype) = mean + amplitude * (2u - 1),
 * u = (lowbias32(seed ^ i * 0x9E3779B1) >> 8) / 2^24, rounded to bf16 by truncation: bit for bit what
 * io.latentserve.model.random.HashFill computes, so random weights are made in place on the device.
 * grid-stride: any grid, block LS_THREADS.
 */
typedef struct {
    ls_ptr dst;         /* element indexBase is written at dst */
    int count;          /* elements in this launch (a host loop covers larger tensors) */
    int indexBase;      /* index of the first element, read as unsigned: tensors of up to 2^32 elements */
    int seed;
    float mean;
    float amplitude;
    int dtype;          /* LS_DTYPE_BF16 or LS_DTYPE_F32 */
} LsFillHashedParams;

/*
 * ls_mla_decode: absorbed MLA decode over the paged latent cache, split over the keys (mla_decode.cu).
 * Work item b (blockIdx.x) = work[4b .. 4b+3] = {row, seq, start, end}: query row `row` attends key positions
 * [start, end) of sequence `seq` (one chunk of 0..position); a row's work items are consecutive and
 * splitBase[row] .. splitBase[row+1] lists them. For head h (blockIdx.y * LS_MLA_DECODE_WARPS *
 * LS_MLA_HEADS_PER_WARP + ...):
 *   query  q + row*qStride + h*qHeadStride : [r | dr]  (W_UK^T q_nope | q_pe)
 *   key    cache + r(s)*cacheStride : r + dr, r(s) = blockTables[seq*maxBlocks + s/blockSize]*blockSize + s%blockSize
 *   value  the key's first r values;  score = (q . key) * scale
 * A row of one split gets its softmax-weighted value sum in out + row*outStride + h*outHeadStride : r;
 * otherwise item b writes partialAcc[(b*numHeads + h)*r : r] (unnormalised) and partialMl[2*(b*numHeads + h)]
 * = {max score, sum exp(score - max)} for ls_mla_combine. Every chunk holds at least one position. An item
 * whose row is -1 is padding: its blocks exit at once (the host pads the item count to a power of two so the
 * launch, and a CUDA graph of the step, keeps its shape while contexts grow).
 * The cache is f32 or bf16 (cacheDtype, LS_DTYPE_*); shared-memory tiles keep the cache's type (bf16 tiles
 * are half the size) and values are widened exactly as they are read.
 * grid (numWork, ceil(numHeads / (LS_MLA_DECODE_WARPS*LS_MLA_HEADS_PER_WARP))), block 32*LS_MLA_DECODE_WARPS,
 * dynamic shared memory LS_MLA_STAGES*LS_MLA_TILE*ceil16(e*(r + dr)) bytes, e = 4 (f32) or 2 (bf16): rows
 * padded to a multiple of 16 bytes.
 */
typedef struct {
    ls_ptr q;           /* [rows, ...] f32 */
    ls_ptr cache;       /* latent cache rows of one layer, f32 or bf16 (cacheDtype), stride cacheStride */
    ls_ptr blockTables; /* [numSeqs, maxBlocks] int32 */
    ls_ptr work;        /* [numWork, 4] int32: row, seq, start, end */
    ls_ptr splitBase;   /* [rows + 1] int32 */
    ls_ptr partialAcc;  /* [numWork, numHeads, r] f32 */
    ls_ptr partialMl;   /* [numWork, numHeads, 2] f32 */
    ls_ptr out;         /* [rows, ...] f32 */
    int numWork;
    int numHeads;
    int r;
    int dr;
    int qStride;
    int qHeadStride;
    int cacheStride;
    int blockSize;
    int maxBlocks;
    int outStride;
    int outHeadStride;
    float scale;
    int cacheDtype;     /* LS_DTYPE_* of the cache */
    int pad0;
} LsMlaDecodeParams;

/*
 * ls_mla_decode_tc: ls_mla_decode on tensor cores over a bf16 latent cache (mla_decode_tc.cu). Same work items,
 * query, key, value, score, outputs (out for a row of one split, else partialAcc/partialMl for ls_mla_combine)
 * and split plan as ls_mla_decode; the cache rows are bf16 (r + dr values, widened exactly), q f32.
 * Shapes: r % 16 == 0, (r + dr) % 16 == 0, r <= LS_MLA_MAX_R, r + dr <= LS_MLA_MAX_QK. 16-byte cp.async copies
 * when cacheStride % 8 == 0 and the cache is 16-byte aligned, element copies otherwise.
 * ls_mla_decode_tma takes the same struct, grid and shared memory (compute capability >= 9.0): the same kernel
 * body filling its tile ring by the bulk copy engine (one cp.async.bulk per cache row, an mbarrier per stage)
 * when the rows are 16-byte aligned as above, else as ls_mla_decode_tc does.
 * grid (numWork, ceil(numHeads / LS_MLA_TC_HEADS)), block 32*LS_MLA_TC_WARPS, dynamic shared memory
 * 4*KSPLIT*HEADS*(TILE + 8) + 16*2*32*(TILE/16) + 12*HEADS + 2*STAGES*TILE*(r + dr + 8) + 8*STAGES bytes
 * (LS_MLA_TC_*; shared rows padded by 8 values, an odd number of 16-byte units apart: ldmatrix without bank
 * conflicts; the last 8*STAGES bytes are the bulk variant's mbarriers): 162,016 bytes at 512 + 64, above the
 * 48 KB default, the launcher opts in.
 */
typedef struct {
    ls_ptr q;           /* [rows, ...] f32 */
    ls_ptr cache;       /* latent cache rows of one layer, bf16, stride cacheStride (elements) */
    ls_ptr blockTables; /* [numSeqs, maxBlocks] int32 */
    ls_ptr work;        /* [numWork, 4] int32: row, seq, start, end */
    ls_ptr splitBase;   /* [rows + 1] int32 */
    ls_ptr partialAcc;  /* [numWork, numHeads, r] f32 */
    ls_ptr partialMl;   /* [numWork, numHeads, 2] f32 */
    ls_ptr out;         /* [rows, ...] f32 */
    int numWork;
    int numHeads;
    int r;
    int dr;
    int qStride;
    int qHeadStride;
    int cacheStride;
    int blockSize;
    int maxBlocks;
    int outStride;
    int outHeadStride;
    float scale;
} LsMlaDecodeTcParams;

/*
 * ls_mla_prefill_tc: causal MLA attention of prefill queries over the decompressed keys (MODEL_SPEC 3.1), one
 * block per (head h = blockIdx.x, work item = blockIdx.y), on tensor cores, scores never leaving the chip.
 * Work item i = work[4i..4i+3] = (first query row w0, query count n in 1..LS_MLA_PF_QUERIES, key row base kb,
 * key end e): queries w0 .. w0+n-1 (consecutive rows of one sequence), query w at position positions[w] sees
 * key rows kb + 0 .. kb + positions[w]; e = 1 + the largest of those positions (keys read: kb .. kb+e-1).
 *   query  q + w*qStride + h*qHeadStride : [q_nope dn | q_rope dr] f32
 *   key    [kv + r*kvStride + h*kvHeadStride : dn | rope + r*ropeStride : dr]   (bf16 hi / lo halves)
 *   value  kv + r*kvStride + h*kvHeadStride + dn : dv                           (bf16 hi / lo halves)
 *   out + w*outStride + h*outHeadStride : dv = sum_s softmax((q . key_s) * scale) value_s
 * K and V come split (x = hi + lo, hi = bf16(x), lo = bf16(x - hi): ls_split_bf16), Q and P are split in
 * registers; terms 3: S = Qhi.Khi + Qlo.Khi + Qhi.Klo, O += Phi.Vhi + Plo.Vhi + Phi.Vlo (f32-level accuracy);
 * terms 1: Qhi.Khi and Phi.Vhi only (kvLo, ropeLo not read, may be 0).
 * Shapes: dn, dr, dv multiples of 16 (dr may be 0), dn + dr <= LS_MLA_PF_MAX_QK, dv <= LS_MLA_PF_MAX_DV.
 * 16-byte cp.async copies when kvStride, kvHeadStride and ropeStride are multiples of 8 and the arrays 16-byte
 * aligned, element copies otherwise. Deterministic: each output row written once by one block, no atomics.
 * grid (numHeads, numWork), block 32*LS_MLA_PF_WARPS, dynamic shared memory
 * 2*STAGES*halves*KEYS*(dn + dr + 8 + dv + 8) + (terms 3: 2*QUERIES*(dn + dr + 8)) bytes (halves = 2 for
 * terms 3, 1 for terms 1; LS_MLA_PF_*; the second part holds the lo halves of the block's Q): 111,616 bytes at
 * 128 + 64, 128 with terms 3, above the 48 KB default, the launcher opts in; 43,008 with terms 1.
 */
typedef struct {
    ls_ptr q;           /* [rows, ...] f32 */
    ls_ptr kvHi;        /* [keys, ...] bf16: k_nope | v of each head */
    ls_ptr kvLo;        /* [keys, ...] bf16, or 0 when terms == 1 */
    ls_ptr ropeHi;      /* [keys, ...] bf16: k_rope, shared by all heads */
    ls_ptr ropeLo;      /* [keys, ...] bf16, or 0 when terms == 1 */
    ls_ptr positions;   /* [rows] int32 */
    ls_ptr work;        /* [numWork, 4] int32: first query row, query count, key row base, key end */
    ls_ptr out;         /* [rows, ...] f32 */
    int numWork;
    int numHeads;
    int dn;
    int dr;
    int dv;
    int qStride;
    int qHeadStride;
    int kvStride;
    int kvHeadStride;
    int ropeStride;
    int outStride;
    int outHeadStride;
    int terms;          /* 3 or 1 */
    float scale;
} LsMlaPrefillTcParams;

/*
 * ls_mla_combine: for each row with more than one split (at most LS_MLA_MAX_SPLITS) and head h, with
 * M = max_k m_k over its work items k: out + row*outStride + h*outHeadStride : r
 *   = sum_k exp(m_k - M) partialAcc_k / sum_k exp(m_k - M) l_k. Rows of one split are left alone.
 * grid (rows, numHeads), block LS_THREADS.
 */
typedef struct {
    ls_ptr partialAcc;  /* [numWork, numHeads, r] f32 */
    ls_ptr partialMl;   /* [numWork, numHeads, 2] f32 */
    ls_ptr splitBase;   /* [rows + 1] int32 */
    ls_ptr out;         /* [rows, ...] f32 */
    int rows;
    int numHeads;
    int r;
    int outStride;
    int outHeadStride;
    int pad0;
} LsMlaCombineParams;

/*
 * ls_causal_softmax: in place over scores [rows, cols] (stride cols), rows = heads x queries: row i is query
 * q = i % queries, which sees keys 0 .. firstPosition + q (clamped to cols). Each visible score s becomes
 * exp(s*scale - max) / sum over the visible ones, every hidden one 0: the P of P·V, for prefill attention done
 * as cuBLAS GEMMs (QKᵀ, then P·V). grid (rows), block LS_THREADS.
 */
typedef struct {
    ls_ptr scores;      /* [rows, cols] f32 */
    int rows;
    int queries;
    int cols;
    int firstPosition;
    float scale;
    int pad0;
} LsCausalSoftmaxParams;

/*
 * ls_moe_sort: the routing table of ls_moe_route regrouped by expert, on the device (no host round trip).
 * Pair i = t*topK + k chose expert experts[i]. Gathered rows are numbered expert after expert (ascending id),
 * tokens ascending within an expert (deterministic):
 *   offsets[e] .. offsets[e+1]-1   the gathered rows of expert e (offsets[numExperts] = rows*topK)
 *   rowToken[row]                  the token of a gathered row
 *   pairRows[t, j], pairWeights[t, j]  token t's gathered rows and routing weights, ascending expert id
 *                                  (what ls_moe_combine takes: the order the CPU backend adds in)
 * Expert ids are in [0, numExperts), distinct within a token (ls_moe_route guarantees both).
 * numShared > 0 (shared experts folded in): experts numExperts .. numExperts+numShared-1 are chosen by every token
 * with weight 1, after the routed ones: their rows are rows*topK + s*rows + t (offsets[numExperts + s] =
 * rows*(topK + s)), and each token lists them first: pairRows/pairWeights are [rows, numShared + topK], j < numShared
 * the shared experts in order, then the routed ones ascending (the CPU backend adds the shared MLP first).
 * grid (1), block LS_THREADS.
 */
typedef struct {
    ls_ptr experts;     /* [rows, topK] int32 */
    ls_ptr weights;     /* [rows, topK] f32 */
    ls_ptr offsets;     /* [numExperts + 1] int32 out */
    ls_ptr rowToken;    /* [rows*(topK + numShared)] int32 out */
    ls_ptr pairRows;    /* [rows, numShared + topK] int32 out */
    ls_ptr pairWeights; /* [rows, numShared + topK] f32 out */
    int rows;
    int topK;
    int numExperts;     /* routed experts (at most LS_MOE_MAX_EXPERTS) */
    int numShared;      /* pseudo-experts every token takes with weight 1 (0: none) */
} LsMoeSortParams;

/*
 * ls_moe_gate_up: for each expert e and each of its gathered rows r (offsets[e] <= r < offsets[e+1]),
 *   h[r, i] = silu(gate_e[i, :] . x[rowToken[r], :]) * (up_e[i, :] . x[rowToken[r], :])
 * f32 activations, weights widened, f32 accumulation. gateTable/upTable hold each expert's weight address
 * (bf16 or f32 [inter, hidden] row-major, 16-byte aligned); hidden is a multiple of 8 (16-byte loads).
 * grid (numExperts, ceil(inter / LS_MOE_GATE_UP_ROWS)), block LS_THREADS; blocks of experts without rows
 * exit before reading a weight.
 */
typedef struct {
    ls_ptr x;           /* [T, hidden] f32, stride xStride */
    ls_ptr gateTable;   /* [numExperts] device addresses of gate_proj */
    ls_ptr upTable;     /* [numExperts] device addresses of up_proj */
    ls_ptr offsets;     /* [numExperts + 1] int32 (ls_moe_sort) */
    ls_ptr rowToken;    /* [pairs] int32 (ls_moe_sort) */
    ls_ptr h;           /* [pairs, inter] f32 out, stride hStride */
    int numExperts;
    int hidden;
    int inter;
    int xStride;
    int hStride;
    int weightDtype;    /* LS_DTYPE_* of every gate and up weight */
} LsMoeGateUpParams;

/*
 * ls_moe_down: y[r, d] = down_e[d, :] . h[r, :] for each expert e and each of its gathered rows r.
 * downTable holds each expert's down_proj address (bf16 or f32 [hidden, inter] row-major, 16-byte
 * aligned) and downStrides its row stride in values (inter, or more for a column slice of a wider matrix: the
 * shared experts' [hidden, S*inter] down_proj seen as S experts); inter and every stride are multiples of 8.
 * grid (numExperts, ceil(hidden / LS_MOE_DOWN_ROWS)), block LS_THREADS; blocks of experts without rows exit
 * before reading a weight.
 */
typedef struct {
    ls_ptr h;           /* [pairs, inter] f32, stride hStride */
    ls_ptr downTable;   /* [numExperts] device addresses of down_proj */
    ls_ptr downStrides; /* [numExperts] int32 row stride (values) of each down_proj */
    ls_ptr offsets;     /* [numExperts + 1] int32 (ls_moe_sort) */
    ls_ptr y;           /* [pairs, hidden] f32 out, stride yStride */
    int numExperts;
    int hidden;
    int inter;
    int hStride;
    int yStride;
    int weightDtype;    /* LS_DTYPE_* of every down weight */
} LsMoeDownParams;

/*
 * ls_moe_gate_up_tc: ls_moe_gate_up on tensor cores (mma.sync m16n8k16, bf16 x bf16 -> f32), same inputs,
 * outputs and sorted layout; every weight bf16. x is split into bf16 hi + lo (both products summed in f32:
 * within ~1e-5 of f32 arithmetic). hidden and inter are multiples of LS_MOE_TC_K; weights 16-byte aligned.
 * grid (numExperts, ceil(inter / LS_MOE_TC_FEATURES)), block LS_THREADS; blocks of experts without rows exit
 * before reading a weight.
 */
typedef struct {
    ls_ptr x;           /* [T, hidden] f32, stride xStride */
    ls_ptr gateTable;   /* [numExperts] device addresses of gate_proj (bf16 [inter, hidden]) */
    ls_ptr upTable;     /* [numExperts] device addresses of up_proj (bf16 [inter, hidden]) */
    ls_ptr offsets;     /* [numExperts + 1] int32 (ls_moe_sort) */
    ls_ptr rowToken;    /* [pairs] int32 (ls_moe_sort) */
    ls_ptr h;           /* [pairs, inter] f32 out, stride hStride */
    int numExperts;
    int hidden;
    int inter;
    int xStride;
    int hStride;
    int pad0;
} LsMoeGateUpTcParams;

/*
 * ls_moe_down_tc: ls_moe_down on tensor cores (as ls_moe_gate_up_tc: h split into bf16 hi + lo, bf16 down
 * weights, f32 accumulation). hidden and inter are multiples of LS_MOE_TC_K; weights 16-byte aligned, row strides
 * (downStrides, as in ls_moe_down) multiples of 8.
 * grid (numExperts, ceil(hidden / LS_MOE_TC_FEATURES)), block LS_THREADS; blocks of experts without rows exit
 * before reading a weight.
 */
typedef struct {
    ls_ptr h;           /* [pairs, inter] f32, stride hStride */
    ls_ptr downTable;   /* [numExperts] device addresses of down_proj (bf16 [hidden, inter]) */
    ls_ptr downStrides; /* [numExperts] int32 row stride (values) of each down_proj */
    ls_ptr offsets;     /* [numExperts + 1] int32 (ls_moe_sort) */
    ls_ptr y;           /* [pairs, hidden] f32 out, stride yStride */
    int numExperts;
    int hidden;
    int inter;
    int hStride;
    int yStride;
    int pad0;
} LsMoeDownTcParams;

/*
 * ls_moe_gate_up_wgmma: ls_moe_gate_up on Hopper warpgroup tensor cores (wgmma m64n256k16, bf16 x bf16 -> f32;
 * sm_90a only: elsewhere the kernel traps), same sorted layout; x comes as bf16 terms (ls_split_bf16: xHi, and
 * xLo when aTerms is 2, both products accumulated, within ~1e-5 of f32 arithmetic), h leaves as bf16 terms
 * (hHi = bf16(h), hLo = bf16(h - hHi) when aTerms is 2), the input of ls_moe_down_wgmma. Every weight bf16,
 * hidden and inter multiples of LS_MOE_TC_K, xStride, hStride and the weight rows 16-byte aligned (multiples of 8
 * values). A work item is LS_MOE_WG_ROWS gathered rows of one expert x LS_MOE_WG_GATE_UP_FEATURES features (gate
 * and up); the blocks take them in turn. grid (any count; the SMs' is enough), block LS_MOE_WG_THREADS, dynamic
 * shared memory LS_MOE_WG_SMEM; numExperts at most LS_MOE_WG_MAX_EXPERTS.
 */
typedef struct {
    ls_ptr xHi;         /* [T, hidden] bf16 = bf16(x), stride xStride */
    ls_ptr xLo;         /* [T, hidden] bf16 = bf16(x - xHi), stride xStride; unread when aTerms is 1 */
    ls_ptr gateTable;   /* [numExperts] device addresses of gate_proj (bf16 [inter, hidden]) */
    ls_ptr upTable;     /* [numExperts] device addresses of up_proj (bf16 [inter, hidden]) */
    ls_ptr offsets;     /* [numExperts + 1] int32 (ls_moe_sort) */
    ls_ptr rowToken;    /* [pairs] int32 (ls_moe_sort) */
    ls_ptr hHi;         /* [pairs, inter] bf16 out, stride hStride */
    ls_ptr hLo;         /* [pairs, inter] bf16 out, stride hStride; unwritten when aTerms is 1 */
    ls_ptr weightMaps;  /* [numExperts, 3] tensor maps (gate, up, down; LS_TENSOR_MAP_BYTES each), or 0: cp.async */
    int numExperts;
    int hidden;
    int inter;
    int xStride;
    int hStride;
    int aTerms;         /* 1: bf16 activations; 2: bf16 hi + lo */
} LsMoeGateUpWgmmaParams;

/*
 * ls_moe_down_wgmma: ls_moe_down on Hopper warpgroup tensor cores (as ls_moe_gate_up_wgmma: h as the bf16 terms
 * it wrote, bf16 down weights, f32 accumulation and f32 y). inter a multiple of LS_MOE_TC_K; weights 16-byte
 * aligned, row strides (downStrides, as in ls_moe_down) and hStride multiples of 8. A work item is LS_MOE_WG_ROWS
 * gathered rows x LS_MOE_WG_DOWN_FEATURES output features. grid (any count; the SMs' is enough), block
 * LS_MOE_WG_THREADS, dynamic shared memory LS_MOE_WG_SMEM; numExperts at most LS_MOE_WG_MAX_EXPERTS.
 */
typedef struct {
    ls_ptr hHi;         /* [pairs, inter] bf16, stride hStride */
    ls_ptr hLo;         /* [pairs, inter] bf16, stride hStride; unread when aTerms is 1 */
    ls_ptr downTable;   /* [numExperts] device addresses of down_proj (bf16 [hidden, inter]) */
    ls_ptr downStrides; /* [numExperts] int32 row stride (values) of each down_proj */
    ls_ptr offsets;     /* [numExperts + 1] int32 (ls_moe_sort) */
    ls_ptr y;           /* [pairs, hidden] f32 out, stride yStride */
    ls_ptr weightMaps;  /* [numExperts, 3] tensor maps (gate, up, down; LS_TENSOR_MAP_BYTES each), or 0: cp.async */
    int numExperts;
    int hidden;
    int inter;
    int hStride;
    int yStride;
    int aTerms;         /* 1: hHi only; 2: hHi + hLo */
} LsMoeDownWgmmaParams;

/*
 * ls_gemv: out[t, n] = sum_k x[t, k] * w[n, k] for the few rows of a decode batch (t < rows <= LS_GEMV_MAX_ROWS),
 * f32 activations against bf16 weights widened exactly, f32 accumulation: one launch instead of cuBLAS's
 * split / GEMM / add, each weight row read once (16-byte loads when k % 8 == 0), every row of x against it.
 * One warp per output feature n, lanes over k, then a warp sum. grid (ceil(n / LS_GEMV_FEATURES)), block LS_THREADS.
 */
typedef struct {
    ls_ptr x;           /* [rows, k] f32, stride xStride */
    ls_ptr w;           /* [n, k] bf16 */
    ls_ptr out;         /* [rows, n] f32, stride outStride */
    int rows;
    int k;
    int n;
    int xStride;
    int outStride;
    int pad0;
} LsGemvParams;

#endif /* LATENTSERVE_PARAMS_H */
