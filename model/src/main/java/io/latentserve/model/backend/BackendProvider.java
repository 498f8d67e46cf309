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

    /** A backend as the options say: its tensor-core products' precision, CUDA graphs on or off. */
    Backend create(BackendOptions options);

    /** {@link #create(BackendOptions)} at the precision, CUDA graphs as -Dlatentserve.cuda.graphs says. */
    default Backend create(MatmulPrecision precision) {
        return create(BackendOptions.of(precision));
    }

    /** {@link #create(BackendOptions)} as the system properties say (HIGH precision, no graphs unless set). */
    default Backend create() {
        return create(BackendOptions.fromSystemProperties());
    }
}
