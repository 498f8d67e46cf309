package io.latentserve.cuda.bench;

import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MatmulPrecision;
import io.latentserve.model.perf.KnownShapes;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/** The settings of {@link DeviceBench} (`latentserve bench --device cuda`), and their command line. */
public record DeviceBenchOptions(String shapes, int layers, int[] batches, int[] contexts, int prefillTokens, int steps,
                                 int activationGiB, Path json, boolean graphs, boolean kernelBenches,
                                 KvCacheDtype kvCacheDtype, MatmulPrecision matmulPrecision) {
    public static final String USAGE = """
            usage: latentserve bench --device cuda [--shapes v2-lite|tiny] [--layers N] [--batches 1,16,64,256]
                                     [--contexts 1024,4096] [--prefill-tokens 4096] [--steps 5]
                                     [--activation-gib 16] [--json FILE] [--graphs false|true]
                                     [--kernel-benches true|false] [--kv-cache-dtype bf16|f32]
                                     [--matmul-precision high|medium]
              DeepSeek-V2-Lite's exact config with random weights made on the GPU (27 layers, ~31 GB bf16);
              the KV cache is bf16 unless --kv-cache-dtype f32 (the bound counts a bf16 cache); decode runs at
              --matmul-precision (high by default), prefill at both, side by side""";

    public DeviceBenchOptions {
        Objects.requireNonNull(kvCacheDtype, "kvCacheDtype");
        Objects.requireNonNull(matmulPrecision, "matmulPrecision");
        if (!shapes.equals("v2-lite") && !shapes.equals("tiny")) {
            throw new IllegalArgumentException("--shapes must be v2-lite or tiny, not " + shapes);
        }
        if (layers < 1 || batches.length == 0 || contexts.length == 0 || prefillTokens < 0 || steps < 1
                || activationGiB < 1) {
            throw new IllegalArgumentException("layers, steps and activation memory must be >= 1; batches and "
                    + "contexts non-empty; prefill tokens >= 0");
        }
    }

    public static DeviceBenchOptions defaults() {
        return new DeviceBenchOptions("v2-lite", KnownShapes.V2_LITE_LAYERS, new int[]{1, 16, 64, 256},
                new int[]{1024, 4096}, 4096, 5, 16, null, false, true, KvCacheDtype.BF16,
                MatmulPrecision.HIGH);
    }

    /** --name value pairs; unknown names and bad numbers are usage errors. */
    public static DeviceBenchOptions parse(String[] argv) {
        DeviceBenchOptions d = defaults();
        String shapes = d.shapes();
        boolean graphs = d.graphs();
        boolean kernelBenches = d.kernelBenches();
        int layers = d.layers();
        int[] batches = d.batches();
        int[] contexts = d.contexts();
        int prefill = d.prefillTokens();
        int steps = d.steps();
        int activation = d.activationGiB();
        Path json = null;
        KvCacheDtype kvCacheDtype = d.kvCacheDtype();
        MatmulPrecision matmulPrecision = d.matmulPrecision();
        for (int i = 0; i < argv.length; i++) {
            String name = argv[i];
            if (i + 1 >= argv.length) {
                throw new IllegalArgumentException(name + " needs a value\n" + USAGE);
            }
            String value = argv[++i];
            switch (name) {
                case "--shapes" -> shapes = value;
                case "--layers" -> layers = Integer.parseInt(value);
                case "--batches" -> batches = ints(value);
                case "--contexts" -> contexts = ints(value);
                case "--prefill-tokens" -> prefill = Integer.parseInt(value);
                case "--steps" -> steps = Integer.parseInt(value);
                case "--activation-gib" -> activation = Integer.parseInt(value);
                case "--json" -> json = Path.of(value);
                case "--graphs" -> graphs = bool(name, value);
                case "--kernel-benches" -> kernelBenches = bool(name, value);
                case "--kv-cache-dtype" -> kvCacheDtype = KvCacheDtype.parse(value);
                case "--matmul-precision" -> matmulPrecision = MatmulPrecision.parse(value);
                default -> throw new IllegalArgumentException("unknown option " + name + "\n" + USAGE);
            }
        }
        return new DeviceBenchOptions(shapes, layers, batches, contexts, prefill, steps, activation, json, graphs,
                kernelBenches, kvCacheDtype, matmulPrecision);
    }

    private static boolean bool(String name, String value) {
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(name + " takes true or false, not " + value);
        };
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }
}
