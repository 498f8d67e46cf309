package io.latentserve.model.backend;

import java.util.Objects;

/**
 * What the command line asks of a GPU backend: the precision of its tensor-core products (--matmul-precision) and
 * whether its forward passes become CUDA graphs (--cuda-graphs). The CPU backend computes in f32 one operation at
 * a time and ignores both.
 *
 * @param matmulPrecision how tensor-core products treat f32 activations
 * @param cudaGraphs      record each forward pass and replay it as a CUDA graph once its launches repeat
 */
public record BackendOptions(MatmulPrecision matmulPrecision, boolean cudaGraphs) {
    /** The system property that turns CUDA graphs on when no option says otherwise ("true"). */
    public static final String GRAPHS_PROPERTY = "latentserve.cuda.graphs";

    public BackendOptions {
        Objects.requireNonNull(matmulPrecision, "matmulPrecision");
    }

    /** Both from their system properties: -Dlatentserve.cuda.matmulPrecision and -Dlatentserve.cuda.graphs. */
    public static BackendOptions fromSystemProperties() {
        return of(MatmulPrecision.fromSystemProperty());
    }

    /** The given precision, CUDA graphs as -Dlatentserve.cuda.graphs says (off unless "true"). */
    public static BackendOptions of(MatmulPrecision precision) {
        return new BackendOptions(precision, graphsFromSystemProperty());
    }

    /** -Dlatentserve.cuda.graphs=true turns CUDA graphs on; anything else, or nothing, leaves them off. */
    public static boolean graphsFromSystemProperty() {
        return Boolean.getBoolean(GRAPHS_PROPERTY);
    }
}
