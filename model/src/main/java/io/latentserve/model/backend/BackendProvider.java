package io.latentserve.model.backend;

import java.util.Optional;

/**
 * A backend other than the CPU one, found at run time through {@link java.util.ServiceLoader}
 * (the CUDA backend lives in the native module), so everything builds and runs without a GPU.
 */
public interface BackendProvider {

    /** Device name as given to --device (e.g. "cuda"). */
    String device();

    /** Why this backend cannot be used on this machine (no driver, no GPU, ...), or empty when it can. */
    Optional<String> unavailableReason();

    /** A backend whose tensor-core products treat f32 activations as the precision says. */
    Backend create(MatmulPrecision precision);

    /** {@link #create(MatmulPrecision)} at {@link MatmulPrecision#fromSystemProperty()} (HIGH unless set). */
    default Backend create() {
        return create(MatmulPrecision.fromSystemProperty());
    }
}
