package io.latentserve.server.cli;

import io.latentserve.cuda.CudaBackendProvider;
import io.latentserve.cuda.bench.DeviceBench;
import io.latentserve.cuda.bench.DeviceBenchOptions;
import io.latentserve.model.LoadedModel;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.DeviceSelector;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MatmulPrecision;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.Weights;
import io.latentserve.model.perf.KnownShapes;
import io.latentserve.model.perf.RooflineBound;
import io.latentserve.model.random.RandomTensorStore;
import io.latentserve.server.ServeCommand;
import io.latentserve.server.engine.sample.SamplingParams;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * `latentserve bench`: prefill and decode throughput of one sequence, with decode reported as a fraction
 * of the bound set by this machine's memory bandwidth, measured in the same run (BENCHMARKS.md method).
 */
public final class BenchCommand {
    public static final String USAGE = """
            usage: latentserve bench [--config builtin|v2-lite] [--layers N] [--model DIR] [--prompt-tokens N]
                                     [--decode-tokens N] [--rounds N] [--device auto|cpu|cuda]
                                     [--kv-cache-dtype f32|bf16] [--matmul-precision high|medium]
              --config builtin   the built-in demo model (default)
              --config v2-lite   random weights with DeepSeek-V2-Lite's real layer shapes, --layers layers (default 4)
              --model DIR        a checkpoint folder instead
              --kv-cache-dtype   the KV cache's element type (default f32; bf16 halves the cache bytes decode reads)
              --matmul-precision the CUDA backend's tensor-core products: high (default, f32 activations as bf16
                                 hi + lo) or medium (rounded to bf16: up to 2-3x less work in prefill; see serve)
            with --device cuda and neither --config nor --model, the GPU suite: DeepSeek-V2-Lite at full size with
            random weights made on the GPU; measured ceilings, kernel rows, decode steps at batch x context and
            prefill, each beside its hardware bound and with where its time goes
            """ + DeviceBenchOptions.USAGE;

    private BenchCommand() {
    }

    public static int run(String[] argv, PrintStream out, PrintStream err) {
        if (isDeviceSuite(argv)) {
            return runDeviceSuite(argv, out, err);
        }
        Args args = Args.parse(argv, 1, Set.of());
        String configName = args.string("config", "builtin");
        int layers = args.integer("layers", 4);
        String modelDir = args.string("model", null);
        int promptTokens = args.integer("prompt-tokens", 128);
        int decodeTokens = args.integer("decode-tokens", 32);
        int rounds = args.integer("rounds", 2);
        String device = args.string("device", "auto");
        KvCacheDtype cacheDtype = kvCacheDtype(args.string("kv-cache-dtype", "f32"));
        MatmulPrecision precision = ServeCommand.matmulPrecision(args.string("matmul-precision", null));
        args.rejectUnknown();
        if (promptTokens < 1 || decodeTokens < 2 || rounds < 1 || layers < 1) {
            throw new Args.UsageException("--prompt-tokens and --rounds must be >= 1, --decode-tokens >= 2");
        }
        try (Backend backend = new DeviceSelector().select(device, precision, err::println)) {
            MemoryBandwidth bandwidth = new MemoryBandwidth(Runtime.getRuntime().availableProcessors());
            try (CausalLM model = open(configName, layers, modelDir, backend, err)) {
                ModelConfig c = model.config();
                out.printf("model: %s, %d layers, %.3f B parameters; backend %s, %s KV cache%n",
                        describe(configName, modelDir), c.numHiddenLayers(), c.parameterCount() / 1e9, backend.name(),
                        cacheDtype);
                int[] prompt = new SplittableRandom(1).ints(promptTokens, 0, Math.min(c.vocabSize(), 100000)).toArray();
                var generator = new SingleSequenceGenerator(model, cacheDtype);
                generator.generate(prompt, 2, SamplingParams.greedy(), -1, t -> { }); // warm-up: JIT, page cache
                for (int r = 1; r <= rounds; r++) {
                    double bwBefore = bandwidth.measure(3);
                    var result = generator.generate(prompt, decodeTokens, SamplingParams.greedy(), -1, t -> { });
                    double bwAfter = bandwidth.measure(3);
                    report(out, r, c, result, (bwBefore + bwAfter) / 2, cacheDtype);
                }
            }
        }
        return 0;
    }

    /** `bench --device cuda` with neither --config nor --model runs the GPU suite of {@link DeviceBench}. */
    static boolean isDeviceSuite(String[] argv) {
        List<String> args = List.of(argv);
        int device = args.indexOf("--device");
        return device >= 0 && device + 1 < args.size() && args.get(device + 1).equals("cuda")
                && !args.contains("--config") && !args.contains("--model");
    }

    private static int runDeviceSuite(String[] argv, PrintStream out, PrintStream err) {
        List<String> rest = new ArrayList<>(List.of(argv).subList(1, argv.length));   // argv[0] is "bench"
        int device = rest.indexOf("--device");
        rest.remove(device + 1);
        rest.remove(device);
        DeviceBenchOptions options;
        try {
            options = DeviceBenchOptions.parse(rest.toArray(String[]::new));
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
        Optional<String> unavailable = new CudaBackendProvider().unavailableReason();
        if (unavailable.isPresent()) {
            err.println("latentserve bench --device cuda: the CUDA backend is unavailable: " + unavailable.get());
            return 1;
        }
        new DeviceBench(options, out).run();
        return 0;
    }

    /** The --kv-cache-dtype value, or a usage error naming the accepted ones. */
    static KvCacheDtype kvCacheDtype(String value) {
        try {
            return KvCacheDtype.parse(value);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--kv-cache-dtype: " + e.getMessage());
        }
    }

    private static void report(PrintStream out, int round, ModelConfig c, SingleSequenceGenerator.Result r, double bw,
                               KvCacheDtype cacheDtype) {
        int n = r.tokens().size();
        double prefillTps = r.promptIds().length / (r.prefillNanos() / 1e9);
        double decodeTps = (n - 1) / (r.decodeNanos() / 1e9);
        int meanContext = r.promptIds().length + n / 2;
        double bytesPerToken = new RooflineBound(c).decodeStepBytes(1, meanContext, 2, cacheDtype.bytesPerValue());
        double boundTps = bw / bytesPerToken;
        out.printf("round %d: memory bandwidth (triad) %.1f GB/s%n", round, bw / 1e9);
        out.printf("  prefill %d tokens: %.1f tok/s%n", r.promptIds().length, prefillTps);
        out.printf("  decode %d tokens: %.2f tok/s = %.2f GB/s read (%.3f GB/token) = %.2f of the bandwidth bound (%.2f tok/s)%n",
                n - 1, decodeTps, decodeTps * bytesPerToken / 1e9, bytesPerToken / 1e9, decodeTps / boundTps, boundTps);
    }

    private static String describe(String config, String modelDir) {
        return modelDir != null ? modelDir : config.equals("v2-lite") ? "random DeepSeek-V2-Lite shapes" : "built-in demo";
    }

    private static CausalLM open(String config, int layers, String modelDir, Backend backend, PrintStream err) {
        if (modelDir != null) {
            return LoadedModel.open(ModelSource.resolve(modelDir, err), backend).model();
        }
        return switch (config) {
            case "builtin" -> LoadedModel.open(ModelSource.resolve(null, err), backend).model();
            case "v2-lite" -> {
                ModelConfig c = KnownShapes.deepseekV2Lite(layers);
                err.printf("latentserve: filling %.1f GB of random BF16 weights...%n", c.parameterCount() * 2 / 1e9);
                yield new DeepseekV2Model(c, new Weights(new RandomTensorStore(c, 42), backend));
            }
            default -> throw new Args.UsageException("--config must be builtin or v2-lite, not '" + config + "'");
        };
    }
}
