package io.latentserve.cuda.cublas;

import java.util.Arrays;

/**
 * The problems of one cublasGemmGroupedBatchedEx call, stated row-major as the rest of the backend states
 * GEMMs: group g holds problems C_j[M,N] = alpha_g · A_j[M,K] · op(B_j) + beta_g · C_j that share sizes,
 * leading dimensions and scalars (op(B) = Bᵀ with B stored [N,K] when transposeB, else B stored [K,N]).
 * The plan keeps the per-group host arrays in cuBLAS's column-major terms (see {@link Cublas#rowMajorGemm}
 * for the mapping: cuBLAS's A is our B, cuBLAS's B is our A, m and n swap) and the per-problem device
 * addresses in the order cuBLAS walks them (group by group): the caller uploads {@link #cublasA()},
 * {@link #cublasB()} and {@link #c()} as the three device pointer arrays.
 */
public final class GroupedGemmPlan {
    private int groups;
    private int problems;
    private int[] transa = new int[8];
    private int[] m = new int[8];
    private int[] n = new int[8];
    private int[] k = new int[8];
    private int[] lda = new int[8];
    private int[] ldb = new int[8];
    private int[] ldc = new int[8];
    private int[] size = new int[8];
    private float[] alpha = new float[8];
    private float[] beta = new float[8];
    private long[] ptrA = new long[16];
    private long[] ptrB = new long[16];
    private long[] ptrC = new long[16];

    /**
     * Adds one group: problem j multiplies a[j] by op(b[j]) into c[j] (device addresses, row-major with the
     * given leading dimensions in elements).
     */
    public GroupedGemmPlan add(boolean transposeB, int rows, int cols, int inner, float alphaG, long[] a, int ldaRow,
                               long[] b, int ldbRow, float betaG, long[] c, int ldcRow) {
        GemmTypes.checkShape(transposeB, rows, cols, inner, ldaRow, ldbRow, ldcRow);
        if (a.length == 0 || a.length != b.length || a.length != c.length) {
            throw new IllegalArgumentException("a group needs as many A, B and C addresses (at least one), got "
                    + a.length + ", " + b.length + ", " + c.length);
        }
        if (groups == transa.length) {
            int cap = 2 * groups;
            transa = Arrays.copyOf(transa, cap);
            m = Arrays.copyOf(m, cap);
            n = Arrays.copyOf(n, cap);
            k = Arrays.copyOf(k, cap);
            lda = Arrays.copyOf(lda, cap);
            ldb = Arrays.copyOf(ldb, cap);
            ldc = Arrays.copyOf(ldc, cap);
            size = Arrays.copyOf(size, cap);
            alpha = Arrays.copyOf(alpha, cap);
            beta = Arrays.copyOf(beta, cap);
        }
        // column-major: C^T[N,M] = op(B)^T[N,K] · A^T[K,M]
        transa[groups] = transposeB ? Cublas.CUBLAS_OP_T : Cublas.CUBLAS_OP_N;
        m[groups] = cols;
        n[groups] = rows;
        k[groups] = inner;
        lda[groups] = ldbRow;
        ldb[groups] = ldaRow;
        ldc[groups] = ldcRow;
        size[groups] = a.length;
        alpha[groups] = alphaG;
        beta[groups] = betaG;
        groups++;
        if (problems + a.length > ptrA.length) {
            int cap = Math.max(2 * ptrA.length, problems + a.length);
            ptrA = Arrays.copyOf(ptrA, cap);
            ptrB = Arrays.copyOf(ptrB, cap);
            ptrC = Arrays.copyOf(ptrC, cap);
        }
        System.arraycopy(b, 0, ptrA, problems, b.length);
        System.arraycopy(a, 0, ptrB, problems, a.length);
        System.arraycopy(c, 0, ptrC, problems, c.length);
        problems += a.length;
        return this;
    }

    public int groupCount() {
        return groups;
    }

    public int problemCount() {
        return problems;
    }

    /** cuBLAS's Aarray: our B operands (the weights of y = x·Wᵀ), one per problem. */
    public long[] cublasA() {
        return Arrays.copyOf(ptrA, problems);
    }

    /** cuBLAS's Barray: our A operands (the activations). */
    public long[] cublasB() {
        return Arrays.copyOf(ptrB, problems);
    }

    public long[] c() {
        return Arrays.copyOf(ptrC, problems);
    }

    // per-group host arrays in cuBLAS's terms, groupCount() entries each
    int[] transa() {
        return Arrays.copyOf(transa, groups);
    }

    int[] m() {
        return Arrays.copyOf(m, groups);
    }

    int[] n() {
        return Arrays.copyOf(n, groups);
    }

    int[] k() {
        return Arrays.copyOf(k, groups);
    }

    int[] lda() {
        return Arrays.copyOf(lda, groups);
    }

    int[] ldb() {
        return Arrays.copyOf(ldb, groups);
    }

    int[] ldc() {
        return Arrays.copyOf(ldc, groups);
    }

    int[] groupSize() {
        return Arrays.copyOf(size, groups);
    }

    float[] alpha() {
        return Arrays.copyOf(alpha, groups);
    }

    float[] beta() {
        return Arrays.copyOf(beta, groups);
    }
}
