package io.latentserve.model.backend;

import io.latentserve.model.cpu.CpuBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Chooses the backend for --device auto|cpu|cuda: `auto` takes the GPU when one is usable and says why
 * it fell back otherwise; `cuda` without a usable GPU is an error, never a silent fallback.
 */
public final class DeviceSelector {
    private final List<BackendProvider> providers;

    public DeviceSelector() {
        this(loadProviders());
    }

    DeviceSelector(List<BackendProvider> providers) {
        this.providers = providers;
    }

    private static List<BackendProvider> loadProviders() {
        List<BackendProvider> found = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(found::add);
        return found;
    }

    /** {@link #select(String, MatmulPrecision, Consumer)} at {@link MatmulPrecision#fromSystemProperty()}. */
    public Backend select(String device, Consumer<String> log) {
        return select(device, MatmulPrecision.fromSystemProperty(), log);
    }

    /**
     * {@link #select(String, BackendOptions, Consumer)} at the precision (how a GPU backend's tensor-core products
     * treat f32 activations), CUDA graphs as -Dlatentserve.cuda.graphs says.
     */
    public Backend select(String device, MatmulPrecision precision, Consumer<String> log) {
        return select(device, BackendOptions.of(precision), log);
    }

    /**
     * @param options what a GPU backend is asked for (--matmul-precision, --cuda-graphs); the CPU backend
     *                computes in f32, one operation at a time, and ignores them
     * @param log     receives one line when auto falls back to the CPU
     */
    public Backend select(String device, BackendOptions options, Consumer<String> log) {
        return switch (device) {
            case "cpu" -> new CpuBackend();
            case "cuda" -> {
                BackendProvider cuda = find("cuda");
                String reason = cuda == null ? "this build has no CUDA backend" : cuda.unavailableReason().orElse(null);
                if (reason != null) {
                    throw new IllegalStateException("--device cuda: no usable GPU (" + reason + ")");
                }
                yield cuda.create(options);
            }
            case "auto" -> {
                BackendProvider cuda = find("cuda");
                String reason = cuda == null ? "this build has no CUDA backend" : cuda.unavailableReason().orElse(null);
                if (reason == null) {
                    yield cuda.create(options);
                }
                log.accept("device auto: using the CPU (" + reason + ")");
                yield new CpuBackend();
            }
            default -> throw new IllegalArgumentException("--device must be auto, cpu or cuda, not '" + device + "'");
        };
    }

    private BackendProvider find(String device) {
        for (BackendProvider p : providers) {
            if (p.device().equals(device)) {
                return p;
            }
        }
        return null;
    }
}
