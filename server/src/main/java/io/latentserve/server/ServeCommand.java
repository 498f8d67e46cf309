package io.latentserve.server;

import io.latentserve.cuda.backend.CudaBackend;
import io.latentserve.model.LoadedModel;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.BackendOptions;
import io.latentserve.model.backend.DeviceSelector;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MatmulPrecision;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.random.DemoModel;
import io.latentserve.server.api.ApiServer;
import io.latentserve.server.api.ServedModel;
import io.latentserve.server.cli.Args;
import io.latentserve.server.engine.Engine;
import io.latentserve.server.engine.EngineConfig;
import io.latentserve.model.graph.LoadProgress;
import io.latentserve.server.api.ApiContext;
import io.latentserve.server.api.Json;
import io.latentserve.server.api.ServerSettings;
import io.latentserve.server.metrics.ServerMetrics;
import io.latentserve.server.security.ApiKeys;
import io.latentserve.server.engine.kv.KvCacheSizing;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.IntConsumer;

/** `latentserve serve`: loads a checkpoint, sizes the KV cache, starts the engine and the HTTP API. */
public final class ServeCommand {
    public static final String USAGE = """
            usage: latentserve serve [--model DIR] [--device auto|cpu|cuda] [--host 127.0.0.1] [--port 8000]
                                     [--served-model-name NAME] [--max-num-seqs 64] [--max-batched-tokens 2048]
                                     [--kv-cache-memory 0.3] [--kv-cache-dtype f32|bf16] [--block-size 64]
                                     [--max-model-len N]
                                     [--max-queued-requests 256] [--max-tokens-cap N] [--max-body-bytes N]
                                     [--api-key KEY] [--api-key-file FILE] [--auth-metrics] [--auth-health]
                                     [--allowed-origins O1,O2|*] [--access-log] [--shutdown-timeout 30]
                                     [--device-sampling on|off] [--async-scheduling]
                                     [--matmul-precision high|medium] [--cuda-graphs on|off]
              --model DIR            HuggingFace checkpoint folder; without it, the built-in demo model on the CPU
              --port N               0 picks a free port (the real one is printed)
              --served-model-name    the name clients pass as `model` (default: the folder name)
              --kv-cache-memory M    bytes for the KV cache: a size (2GiB, 512MB) or a fraction of the JVM's max heap
              --kv-cache-dtype T     f32 (default: values exactly as computed, the reference) or bf16 (also float32 /
                                     bfloat16): each cached value rounded to bf16 halves the cache, so the same
                                     --kv-cache-memory holds twice the blocks and decode reads half the cache bytes
                                     (like vLLM's --kv-cache-dtype); logits move by about bf16's rounding (~1e-2)
              --max-model-len N      longest prompt + completion (default: min(max_position_embeddings, 8192))
              --max-tokens-cap N     most tokens one request may generate (default: no cap beyond the context)
              --api-key KEY          require 'Authorization: Bearer KEY' on API routes (also $LATENTSERVE_API_KEY);
                                     --api-key-file holds one key per line; --auth-metrics / --auth-health
                                     extend the check to /metrics and /health, /ready
              --allowed-origins      CORS: browser origins allowed to call the API (comma-separated, or *)
              --access-log           one line per request on stdout
              --shutdown-timeout S   on SIGTERM, seconds running requests may take to finish before they are
                                     aborted (finish_reason "abort")
              --device-sampling      on (default): on a GPU, requests without logit_bias, penalties, min_p or
                                     logprobs are sampled on the device and their logits never reach the host;
                                     the tokens are the same as with off (every request sampled on the host)
              --async-scheduling     (off by default, like vLLM's) with device sampling, the engine launches the
                                     next step (decode, prefill chunks, new requests) before the host has seen this
                                     step's tokens (the device feeds them in), so the host's stop checks,
                                     detokenizing and scheduling overlap the GPU; the outputs are the same as
                                     without it. No effect on the CPU
              --matmul-precision P   high (default) or medium: how the CUDA backend's tensor cores take f32
                                     activations in prefill-sized products (GEMMs, prefill attention, grouped MoE),
                                     like torch.set_float32_matmul_precision. high splits each into bf16 hi + lo
                                     (within ~1e-5 of f32); medium rounds it to bf16, keeping about 3 significant
                                     digits of each GEMM input as HF transformers and vLLM do in bf16, for up to
                                     2-3x less tensor-core work in prefill. Decode kernels stay f32-exact either
                                     way; the CPU backend computes in f32 and ignores it
              --cuda-graphs on|off   off (default, until measured on a GPU): on records each forward pass on the
                                     CUDA backend and, once a pass's launches repeat (steady decode at a batch
                                     size), replays them as one captured CUDA graph instead of hundreds of launches;
                                     decode steps are padded to batch-size buckets (1, 2, 4, 8, 16, 24, ... 256), one
                                     graph each; combines with --async-scheduling; the outputs are the same either way.
                                     vLLM's equivalent is on by
                                     default, --enforce-eager turns it off. Absent: -Dlatentserve.cuda.graphs=true
                                     turns it on. The CPU backend has no graphs and ignores it""";

    private static final int DEFAULT_MAX_MODEL_LEN = 8192;

    private ServeCommand() {
    }

    /** Serves until the process is stopped (Ctrl-C / SIGTERM), then shuts down gracefully (see Running.close). */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        Running running = start(argv, out, err, port -> { });
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            err.println("latentserve: shutting down: no new requests; running ones get up to "
                    + running.shutdownTimeout().toSeconds() + " s to finish");
            running.close();
            err.println("latentserve: stopped");
            stopped.countDown();
        }, "latentserve-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /**
     * A started server and what it owns. Closing is the graceful shutdown: /ready turns 503, new requests are
     * refused (503), running ones finish for up to the shutdown timeout and are then aborted with finish reason
     * "abort" (their streams still end properly), then the listener, the engine and the model are released.
     */
    public record Running(ApiServer server, Engine engine, LoadedModel model, Backend backend, ServerMetrics metrics,
                          Duration shutdownTimeout) implements AutoCloseable {
        public int port() {
            return server.port();
        }

        @Override
        public void close() {
            server.context().drain();
            engine.shutdown(shutdownTimeout);
            server.awaitIdle(Duration.ofSeconds(5)); // let handlers write the final chunks of aborted streams
            server.close();
            engine.close();
            model.close();
            backend.close();
        }
    }

    /** Parses the options and starts serving; the caller owns the result. */
    public static Running start(String[] argv, PrintStream out, PrintStream err) {
        return start(argv, out, err, port -> { });
    }

    /**
     * Parses the options, starts listening (answering /health, and 503 on /ready, while the weights load),
     * loads the model and opens the API. `onListening` runs with the port before loading starts.
     */
    public static Running start(String[] argv, PrintStream out, PrintStream err, IntConsumer onListening) {
        Args args = Args.parse(argv, 1, Set.of("auth-metrics", "auth-health", "access-log",
                "async-scheduling"));
        String modelArg = args.string("model", null);
        String device = args.string("device", modelArg == null ? "cpu" : "auto");
        String host = args.string("host", "127.0.0.1");
        int port = args.integer("port", 8000);
        String servedName = args.string("served-model-name", null);
        int maxNumSeqs = args.integer("max-num-seqs", 64);
        int maxBatchedTokens = args.integer("max-batched-tokens", 2048);
        String kvMemory = args.string("kv-cache-memory", "0.3");
        KvCacheDtype kvDtype = kvCacheDtype(args.string("kv-cache-dtype", "f32"));
        int blockSize = args.integer("block-size", 64);
        int maxModelLenArg = args.integer("max-model-len", 0);
        int maxQueued = args.integer("max-queued-requests", 256);
        int maxTokensCap = args.integer("max-tokens-cap", Integer.MAX_VALUE);
        long maxBodyBytes = args.integer("max-body-bytes", (int) ServerSettings.DEFAULT_MAX_BODY_BYTES);
        String apiKey = args.string("api-key", System.getenv("LATENTSERVE_API_KEY"));
        String apiKeyFile = args.string("api-key-file", null);
        boolean authMetrics = args.flag("auth-metrics");
        boolean authHealth = args.flag("auth-health");
        String origins = args.string("allowed-origins", "");
        boolean accessLog = args.flag("access-log");
        int shutdownSeconds = args.integer("shutdown-timeout", 30);
        boolean deviceSampling = onOff("--device-sampling",
                args.string("device-sampling", EngineConfig.DEFAULT_DEVICE_SAMPLING ? "on" : "off"));
        MatmulPrecision precision = matmulPrecision(args.string("matmul-precision", null));
        boolean cudaGraphs = cudaGraphs(args.string("cuda-graphs", null));
        boolean asyncScheduling = args.flag("async-scheduling");
        args.rejectUnknown();
        if (port < 0 || port > 65535) {
            throw new Args.UsageException("--port must be 0..65535, got " + port);
        }
        if (maxTokensCap < 1 || shutdownSeconds < 0) {
            throw new Args.UsageException("--max-tokens-cap must be >= 1 and --shutdown-timeout >= 0");
        }
        Path dir = modelDir(modelArg, err);
        ApiKeys keys = ApiKeys.of(apiKey == null || apiKey.isEmpty() ? List.of() : List.of(apiKey),
                apiKeyFile == null ? null : Path.of(apiKeyFile));
        String name = servedName != null ? servedName : String.valueOf(dir.toAbsolutePath().normalize().getFileName());
        ServerMetrics metrics = new ServerMetrics(name);
        ApiContext ctx = new ApiContext(new Json(), maxTokensCap);
        ServerSettings settings = new ServerSettings(host, port, maxBodyBytes, keys, authMetrics, authHealth,
                origins.isBlank() ? List.of() : List.of(origins.split("\\s*,\\s*")), accessLog ? out : null, metrics);
        ApiServer server = ApiServer.start(settings, ctx);
        out.printf("latentserve: listening on http://%s:%d, loading the model (GET /ready turns 200 when done)%n",
                host, server.port());
        out.flush();
        onListening.accept(server.port());
        Backend backend = null;
        LoadedModel loaded = null;
        Engine engine = null;
        try {
            backend = new DeviceSelector().select(device, new BackendOptions(precision, cudaGraphs), err::println);
            loaded = LoadedModel.open(dir, backend, LoadProgress.bar(err, "latentserve: loading weights"));
            ModelConfig c = loaded.model().config();
            int maxModelLen = maxModelLenArg > 0 ? maxModelLenArg : Math.min(c.maxPositionEmbeddings(), DEFAULT_MAX_MODEL_LEN);
            long bytesPerToken = bytesPerToken(loaded, kvDtype);
            int blocks = kvBlocks(KvCacheSizing.parseMemory(kvMemory, Runtime.getRuntime().maxMemory()),
                    bytesPerToken, blockSize, c);
            EngineConfig config = new EngineConfig(maxNumSeqs, maxBatchedTokens, blockSize, blocks, maxModelLen, maxQueued,
                    deviceSampling, kvDtype, asyncScheduling);
            if (config.capacityTokens() < maxModelLen) {
                throw new IllegalStateException("the KV cache holds " + config.capacityTokens() + " tokens, fewer than "
                        + "--max-model-len " + maxModelLen + "; raise --kv-cache-memory or lower --max-model-len");
            }
            engine = new Engine(loaded.model(), loaded.tokenizer(), config, metrics);
            metrics.bindEngine(engine);
            ctx.ready(engine, ServedModel.of(loaded, servedName));
            Running running = new Running(server, engine, loaded, backend, metrics, Duration.ofSeconds(shutdownSeconds));
            describe(out, running, config, bytesPerToken, host, cudaGraphs);
            return running;
        } catch (RuntimeException e) {
            server.close();
            if (engine != null) {
                engine.close();
            }
            if (loaded != null) {
                loaded.close();
            }
            if (backend != null) {
                backend.close();
            }
            throw e;
        }
    }

    private static boolean onOff(String option, String value) {
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new Args.UsageException(option + " must be on or off, got '" + value + "'");
        };
    }

    /** The --cuda-graphs value (absent: whether -Dlatentserve.cuda.graphs=true), or a usage error. */
    public static boolean cudaGraphs(String value) {
        return value == null ? BackendOptions.graphsFromSystemProperty() : onOff("--cuda-graphs", value);
    }

    private static Path modelDir(String model, PrintStream log) {
        if (model == null) {
            log.println("latentserve: serving the built-in demo model (" + DemoModel.DESCRIPTION + "); pass --model DIR "
                    + "to serve a real checkpoint");
            return DemoModel.ensure(DemoModel.defaultCacheRoot());
        }
        Path dir = Path.of(model);
        if (!Files.isDirectory(dir)) {
            throw new Args.UsageException("--model " + model + " is not a folder (expected a HuggingFace checkpoint "
                    + "folder with config.json, *.safetensors and tokenizer.json)");
        }
        return dir;
    }

    /** The --kv-cache-dtype value, or a usage error naming the accepted ones. */
    static KvCacheDtype kvCacheDtype(String value) {
        try {
            return KvCacheDtype.parse(value);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--kv-cache-dtype: " + e.getMessage());
        }
    }

    /**
     * The --matmul-precision value (absent: -Dlatentserve.cuda.matmulPrecision, else high), or a usage error
     * naming the accepted ones.
     */
    public static MatmulPrecision matmulPrecision(String value) {
        try {
            return value == null ? MatmulPrecision.fromSystemProperty() : MatmulPrecision.parse(value);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--matmul-precision: " + e.getMessage());
        }
    }

    /** What the startup log says about CUDA graphs: on, off, or asked for where they do not apply. */
    static String graphsLine(Backend backend, boolean asked) {
        if (backend instanceof CudaBackend cuda) {
            return cuda.cudaGraphs() ? "on (forward passes replayed as graphs once their launches repeat)"
                    : asked ? "off (asked for, but a capture failed)" : "off";
        }
        return asked ? "off (asked for, but only the CUDA backend has them)" : "off";
    }

    /** Asks the backend itself, through a one-token cache of that dtype, so its cache dtype is accounted right. */
    private static long bytesPerToken(LoadedModel loaded, KvCacheDtype dtype) {
        try (KvCache probe = loaded.model().newKvCache(1, 1, dtype)) {
            return probe.bytesPerToken();
        }
    }

    /** Blocks in the budget, no more than one Java array per layer can hold (the CPU cache's layout). */
    private static int kvBlocks(long bytes, long bytesPerToken, int blockSize, ModelConfig c) {
        int blocks = KvCacheSizing.blocksFor(bytes, (int) bytesPerToken, blockSize);
        long perArray = (Integer.MAX_VALUE - 8L) / ((long) blockSize * c.kvCacheWidth());
        blocks = (int) Math.min(blocks, perArray);
        if (blocks < 1) {
            throw new IllegalStateException("--kv-cache-memory leaves no room for a single block of " + blockSize
                    + " tokens (" + bytesPerToken * blockSize + " bytes)");
        }
        return blocks;
    }

    private static void describe(PrintStream out, Running r, EngineConfig config, long bytesPerToken, String host,
                                 boolean cudaGraphs) {
        ModelConfig c = r.model().model().config();
        out.printf("latentserve: model %s (%s), %d layers, %.3f B parameters%n", r.server().context().model().name(),
                r.model().dir(), c.numHiddenLayers(), c.parameterCount() / 1e9);
        out.printf("latentserve: device %s, dtype %s weights, %s KV cache, sampling on the %s%n", r.backend().name(),
                c.torchDtype() == null ? "unknown" : c.torchDtype(), config.kvCacheDtype(),
                r.engine().samplesOnDevice() ? "device where the request allows" : "host");
        out.printf("latentserve: async scheduling %s%n", r.engine().asyncScheduling() ? "on (steps pipelined)"
                : config.asyncScheduling() ? "off (asked for, but the backend does not sample on the device)" : "off");
        out.printf("latentserve: CUDA graphs %s%n", graphsLine(r.backend(), cudaGraphs));
        out.printf("latentserve: KV cache %s, %d blocks x %d = %d tokens (%.1f MiB, %d bytes a token), max model len %d,"
                        + " max %d sequences%n", config.kvCacheDtype(), config.numBlocks(), config.blockSize(),
                config.capacityTokens(), config.capacityTokens() * bytesPerToken / (1024.0 * 1024), bytesPerToken,
                config.maxModelLen(), config.maxNumSeqs());
        out.printf("latentserve: ready at http://%s:%d/ (playground there, OpenAI API under /v1, metrics at /metrics)%n", host, r.port());
        out.flush();
    }
}
