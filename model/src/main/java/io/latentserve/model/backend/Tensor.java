package io.latentserve.model.backend;

/**
 * A 2-D tensor owned by a backend: weights ([out, in], as stored) or f32 activations ([tokens, width]).
 * A 1-D weight (an RMSNorm scale) is one row. Backends may hand out column views of activations.
 */
public interface Tensor {
    int rows();

    int cols();
}
