package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.model.backend.Backend;

/**
 * Placeholder written by the bindings work so the native module builds before the CUDA backend exists.
 * For the backend helper: replace this class; keep the factory {@code static Backend create(CudaContext)}
 * (CudaBackendProvider calls it, and owns closing the context when create throws).
 */
public final class CudaBackend {
    private CudaBackend() {
    }

    public static Backend create(CudaContext ctx) {
        throw new UnsupportedOperationException("CUDA backend not built yet");
    }
}
