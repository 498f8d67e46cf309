package io.latentserve.model.backend;

import java.util.Locale;

/**
 * How exactly a backend's tensor-core products treat f32 activations (PyTorch's
 * {@code torch.set_float32_matmul_precision}). Weights are bf16 (or f32) either way, accumulation and every
 * result stay f32; only the activation operand of a bf16 GEMM differs.
 *
 * <ul>
 *   <li>{@link #HIGH}: each f32 activation is split into bf16 hi + lo and both halves are multiplied (about 16
 *       significant bits kept: within ~1e-5 of the f32 CPU reference), at 2-3x the tensor-core work of one
 *       bf16 GEMM. The default.</li>
 *   <li>{@link #MEDIUM}: each f32 activation is rounded to bf16 (nearest even) and multiplied once (about 3
 *       significant digits kept), as HuggingFace transformers and vLLM run a bf16 model.</li>
 * </ul>
 *
 * The CPU backend computes in f32 and ignores this; the CUDA backend applies it to its prefill-sized GEMMs,
 * GEMM attention and grouped MoE GEMMs (its decode kernels are bandwidth-bound and stay f32-exact).
 */
public enum MatmulPrecision {
    HIGH("high"),
    MEDIUM("medium");

    /** The system property the CUDA backend reads when no option says otherwise. */
    public static final String PROPERTY = "latentserve.cuda.matmulPrecision";

    private final String cliName;

    MatmulPrecision(String cliName) {
        this.cliName = cliName;
    }

    /** The name the command line and logs use: "high" or "medium". */
    /** The other choice (benchmarks put both side by side). */
    public MatmulPrecision other() {
        return this == HIGH ? MEDIUM : HIGH;
    }

    public String cliName() {
        return cliName;
    }

    /** Parses "high" or "medium" (any case, surrounding blanks ignored). */
    public static MatmulPrecision parse(String text) {
        if (text != null) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            for (MatmulPrecision p : values()) {
                if (p.cliName.equals(t)) {
                    return p;
                }
            }
        }
        throw new IllegalArgumentException("unknown matmul precision '" + text
                + "': expected high (f32 activations split into bf16 hi + lo, the default) or medium (rounded to bf16)");
    }

    /** -Dlatentserve.cuda.matmulPrecision when set (a bad value is an error), else {@link #HIGH}. */
    public static MatmulPrecision fromSystemProperty() {
        String value = System.getProperty(PROPERTY);
        if (value == null) {
            return HIGH;
        }
        try {
            return parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return cliName;
    }
}
