package io.latentserve.cuda.driver;

import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of trying to load or open part of the CUDA stack: either the thing, or the reason it is
 * not available. Used instead of exceptions where "no GPU here" is an expected answer (--device auto).
 */
public record Probe<T>(Optional<T> value, Optional<String> reason) {

    public Probe {
        Objects.requireNonNull(value);
        Objects.requireNonNull(reason);
        if (value.isPresent() == reason.isPresent()) {
            throw new IllegalArgumentException("a probe holds either a value or a reason");
        }
    }

    public static <T> Probe<T> ok(T value) {
        return new Probe<>(Optional.of(value), Optional.empty());
    }

    public static <T> Probe<T> failed(String reason) {
        return new Probe<>(Optional.empty(), Optional.of(reason));
    }

    public boolean ok() {
        return value.isPresent();
    }

    /** The value, or a {@link CudaUnavailableException} carrying the reason. */
    public T orElseThrow() {
        return value.orElseThrow(() -> new CudaUnavailableException(reason.orElseThrow()));
    }
}
