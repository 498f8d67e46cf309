package io.latentserve.server.metrics;

import io.latentserve.server.engine.Engine;
import io.latentserve.server.engine.EngineListener;
import io.latentserve.server.engine.EngineStats;
import io.latentserve.server.engine.FinishedRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The server's Prometheus metrics, named like vLLM's (with a latentserve_ prefix and a model_name label) so
 * that existing dashboards translate one to one. Engine gauges and counters are read from its stats
 * snapshot at scrape time; latencies are recorded as the engine reports them.
 */
public final class ServerMetrics implements EngineListener {
    /** Buckets suited to LLM latencies, in seconds (vLLM's TTFT / e2e boundaries, condensed). */
    private static final double[] TTFT_SECONDS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
            0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160};
    private static final double[] ITL_SECONDS = {0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1,
            0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10};
    private static final double[] REQUEST_SECONDS = {0.05, 0.1, 0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30,
            40, 50, 60, 120, 240, 480, 960};
    private static final double[] TOKEN_COUNTS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
            20000, 50000, 100000};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Tags tags;
    private final Timer ttft;
    private final Timer itl;
    private final Timer e2e;
    private final Timer queue;
    private final Timer prefill;
    private final Timer decode;
    private final DistributionSummary promptTokens;
    private final DistributionSummary generationTokens;
    private final DistributionSummary iterationTokens;
    private final Map<String, Counter> finished = new ConcurrentHashMap<>();
    private final Map<String, Counter> rejected = new ConcurrentHashMap<>();
    /** Micrometer holds gauge and function-counter state weakly: the suppliers must be kept alive here. */
    private final java.util.List<Object> stateObjects = new java.util.concurrent.CopyOnWriteArrayList<>();

    public ServerMetrics(String modelName) {
        this.tags = Tags.of("model_name", modelName);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        ttft = timer("latentserve.time_to_first_token", "Time from arrival to the first generated token", TTFT_SECONDS);
        itl = timer("latentserve.inter_token_latency", "Time between two generated tokens of a request", ITL_SECONDS);
        e2e = timer("latentserve.e2e_request_latency", "Time from arrival to finish", REQUEST_SECONDS);
        queue = timer("latentserve.request_queue_time", "Time from arrival to first scheduling", REQUEST_SECONDS);
        prefill = timer("latentserve.request_prefill_time", "Time from first scheduling to the first token", REQUEST_SECONDS);
        decode = timer("latentserve.request_decode_time", "Time from the first to the last token", REQUEST_SECONDS);
        promptTokens = summary("latentserve.request_prompt_tokens", "Prompt tokens per finished request");
        generationTokens = summary("latentserve.request_generation_tokens", "Generated tokens per finished request");
        iterationTokens = summary("latentserve.iteration_tokens", "Tokens in one engine iteration (batch size in tokens)");
        for (String reason : new String[]{"stop", "length", "abort", "error"}) {
            finishedCounter(reason);
        }
        for (String reason : new String[]{"queue_full", "invalid", "unauthorized"}) {
            rejectedCounter(reason);
        }
    }

    /** Gauges and counters read from the engine's snapshot at scrape time. */
    public void bindEngine(Engine engine) {
        Supplier<EngineStats> s = engine::stats;
        stateObjects.add(s);
        gauge("latentserve.num_requests_running", "Requests in the running batch", s, st -> st.running());
        gauge("latentserve.num_requests_waiting", "Requests waiting to be scheduled", s, st -> st.waiting());
        gauge("latentserve.kv_cache_usage_perc", "Fraction of KV cache blocks in use (0..1)", s, EngineStats::kvUsage);
        gauge("latentserve.kv_cache_capacity_tokens", "KV cache capacity in tokens", s, st -> st.kvCapacityTokens());
        gauge("latentserve.kv_cache_free_blocks", "KV cache blocks free or evictable", s, st -> st.freeBlocks());
        counter("latentserve.prompt_tokens", "Prompt tokens processed", s, st -> st.promptTokens());
        counter("latentserve.generation_tokens", "Tokens generated", s, st -> st.generationTokens());
        counter("latentserve.num_preemptions", "Sequences preempted for lack of KV blocks", s, st -> st.preemptions());
        counter("latentserve.prefix_cache_queries", "Prompt tokens looked up in the prefix cache", s,
                st -> st.prefixQueriedTokens());
        counter("latentserve.prefix_cache_hits", "Prompt tokens served from the prefix cache", s,
                st -> st.prefixHitTokens());
    }

    /** A gauge for a value this class does not own (e.g. device memory of the CUDA backend). */
    public void gauge(String name, String help, Supplier<Number> value) {
        stateObjects.add(value);
        Gauge.builder(name, value, v -> v.get().doubleValue()).description(help).tags(tags).register(registry);
    }

    private void gauge(String name, String help, Supplier<EngineStats> s, ToDoubleFunction<EngineStats> f) {
        Gauge.builder(name, s, x -> f.applyAsDouble(x.get())).description(help).tags(tags).register(registry);
    }

    private void counter(String name, String help, Supplier<EngineStats> s, ToDoubleFunction<EngineStats> f) {
        FunctionCounter.builder(name, s, x -> f.applyAsDouble(x.get())).description(help).tags(tags).register(registry);
    }

    private Timer timer(String name, String help, double[] bucketsSeconds) {
        Duration[] slos = new Duration[bucketsSeconds.length];
        for (int i = 0; i < slos.length; i++) {
            slos[i] = Duration.ofNanos((long) (bucketsSeconds[i] * 1e9));
        }
        return Timer.builder(name).description(help).tags(tags).serviceLevelObjectives(slos).register(registry);
    }

    private DistributionSummary summary(String name, String help) {
        return DistributionSummary.builder(name).description(help).tags(tags).serviceLevelObjectives(TOKEN_COUNTS)
                .register(registry);
    }

    private Counter finishedCounter(String reason) {
        return finished.computeIfAbsent(reason, r -> Counter.builder("latentserve.request_success")
                .description("Finished requests by finish reason").tags(tags).tag("finished_reason", r)
                .register(registry));
    }

    private Counter rejectedCounter(String reason) {
        return rejected.computeIfAbsent(reason, r -> Counter.builder("latentserve.requests_rejected")
                .description("Requests refused before they ran, by reason").tags(tags).tag("reason", r)
                .register(registry));
    }

    /** A request refused outside the engine (the API's authentication, validation). */
    public void rejected(String reason) {
        rejectedCounter(reason).increment();
    }

    @Override
    public void onRejected(String reason) {
        rejected(reason);
    }

    @Override
    public void onIteration(int sequences, int tokens, long nanos) {
        iterationTokens.record(tokens);
    }

    @Override
    public void onFirstToken(long nanosSinceArrival) {
        ttft.record(Duration.ofNanos(nanosSinceArrival));
    }

    @Override
    public void onInterTokenLatency(long nanos) {
        itl.record(Duration.ofNanos(nanos));
    }

    @Override
    public void onFinished(FinishedRequest r) {
        finishedCounter(r.reason().apiName()).increment();
        e2e.record(Duration.ofNanos(r.e2eNanos()));
        queue.record(Duration.ofNanos(r.queueNanos()));
        if (r.prefillNanos() >= 0) {
            prefill.record(Duration.ofNanos(r.prefillNanos()));
        }
        if (r.decodeNanos() >= 0) {
            decode.record(Duration.ofNanos(r.decodeNanos()));
        }
        promptTokens.record(r.promptTokens());
        generationTokens.record(r.generatedTokens());
    }

    /** The Prometheus text exposition format (version 0.0.4). */
    public String scrape() {
        return registry.scrape();
    }

    public MeterRegistry registry() {
        return registry;
    }
}
