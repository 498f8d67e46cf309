package io.latentserve.server.bench;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.backend.CudaBackend;
import io.latentserve.cuda.bench.BenchRow;
import io.latentserve.cuda.bench.DeviceCeilings;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MatmulPrecision;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.Weights;
import io.latentserve.model.perf.KnownShapes;
import io.latentserve.model.perf.RooflineBound;
import io.latentserve.model.random.HashedTensorStore;
import io.latentserve.model.tokenizer.BpeTokenizer;
import io.latentserve.model.tokenizer.Tokenizer;
import io.latentserve.server.engine.EngineConfig;
import io.latentserve.server.engine.sample.SamplingParams;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * {@link EngineBench} on the GPU: DeepSeek-V2-Lite (27 layers, weights made on the device, as the GPU
 * suite makes them) served by the engine at B x C, each throughput beside its bound from {@link RooflineBound}
 * and the ceilings measured first. Run by cuda-kernels/device-check.sh with the V2-Lite tokenizer (the golden
 * model's tokenizer.json: same vocabulary). Sampling is on the device unless --device-sampling off (the
 * server's default and switch), for A/B runs of the logits copy; --async-scheduling on pipelines steady decode
 * (the server's switch), for A/B runs of the host work between steps; --graphs true (or on) records and replays
 * forward passes as CUDA graphs (serve --cuda-graphs on), with --async-scheduling on too the combination the
 * server runs with both (a decode row's note counts the passes replayed and the graphs captured). Each shape runs
 * at --matmul-precision (high unless asked), then once more, prefill only (two new tokens), at the other
 * precision: the prefill rows of both side by side (--other-precision-prefill off skips that, e.g. in a run that
 * is about decode). --repetition-penalty R gives every request that penalty (the playground's and chat's default
 * is 1.1): with device sampling its logit edits go to the device (ls_logit_edits, counting a token still on the
 * device under async scheduling), without it every row's logits come to the host sampler.
 *
 * <pre>java ... io.latentserve.server.bench.DeviceEngineBench --tokenizer FILE [--batches 1,16,64]
 *     [--contexts 1024] [--new-tokens 32] [--graphs false|true|on|off] [--device-sampling on|off]
 *     [--kv-cache-dtype bf16|f32] [--matmul-precision high|medium] [--async-scheduling on|off]
 *     [--other-precision-prefill on|off] [--repetition-penalty 1.1] [--json FILE]</pre>
 * The KV cache is bf16 unless --kv-cache-dtype f32, as in the device suite (the bound counts a bf16 cache).
 */
public final class DeviceEngineBench {
    private DeviceEngineBench() {
    }

    public static void main(String[] argv) throws Exception {
        Path tokenizerFile = null;
        int[] batches = {1, 16, 64};
        int[] contexts = {1024};
        int newTokens = 32;
        boolean graphs = false;
        boolean deviceSampling = EngineConfig.DEFAULT_DEVICE_SAMPLING;
        Path json = null;
        KvCacheDtype cacheDtype = KvCacheDtype.BF16;
        MatmulPrecision precision = MatmulPrecision.HIGH;
        boolean asyncScheduling = false;
        boolean otherPrecisionPrefill = true;
        double repetitionPenalty = 1;
        for (int i = 0; i + 1 < argv.length; i += 2) {
            String v = argv[i + 1];
            switch (argv[i]) {
                case "--tokenizer" -> tokenizerFile = Path.of(v);
                case "--batches" -> batches = ints(v);
                case "--contexts" -> contexts = ints(v);
                case "--new-tokens" -> newTokens = Integer.parseInt(v);
                case "--graphs" -> graphs = "on".equals(v) || Boolean.parseBoolean(v);
                case "--device-sampling" -> deviceSampling = "on".equals(v) || Boolean.parseBoolean(v);
                case "--async-scheduling" -> asyncScheduling = "on".equals(v) || Boolean.parseBoolean(v);
                case "--json" -> json = Path.of(v);
                case "--kv-cache-dtype" -> cacheDtype = KvCacheDtype.parse(v);
                case "--matmul-precision" -> precision = MatmulPrecision.parse(v);
                case "--other-precision-prefill" -> otherPrecisionPrefill = "on".equals(v) || Boolean.parseBoolean(v);
                case "--repetition-penalty" -> repetitionPenalty = Double.parseDouble(v);
                default -> throw new IllegalArgumentException("unknown option " + argv[i]);
            }
        }
        if (tokenizerFile == null) {
            throw new IllegalArgumentException("--tokenizer FILE (a DeepSeek tokenizer.json) is required");
        }
        run(BpeTokenizer.fromTokenizerJson(tokenizerFile, null), batches, contexts, newTokens, graphs, deviceSampling,
                cacheDtype, precision, otherPrecisionPrefill ? precision.other() : null, asyncScheduling,
                SamplingParams.greedy().withPenalties(0, 0, repetitionPenalty), json, System.out);
    }

    /**
     * @param other    the precision each shape's prefill runs at once more, or null for none
     * @param sampling every request's (greedy; with penalties, the logit edits are timed too)
     */
    static void run(Tokenizer tokenizer, int[] batches, int[] contexts, int newTokens, boolean graphs,
                    boolean deviceSampling, KvCacheDtype cacheDtype, MatmulPrecision precision, MatmulPrecision other,
                    boolean asyncScheduling, SamplingParams sampling, Path json, PrintStream out)
            throws InterruptedException, IOException {
        ModelConfig config = KnownShapes.deepseekV2Lite(KnownShapes.V2_LITE_LAYERS);
        RooflineBound bound = new RooflineBound(config);
        int maxBatch = Arrays.stream(batches).max().orElseThrow();
        int maxContext = Arrays.stream(contexts).max().orElseThrow();
        long blocks = (long) maxBatch * ((maxContext + newTokens + EngineBench.BLOCK_SIZE) / EngineBench.BLOCK_SIZE + 1);
        long kvBytes = blocks * EngineBench.BLOCK_SIZE * config.kvCacheWidth() * cacheDtype.bytesPerValue()
                * config.numHiddenLayers() + (1L << 30);
        List<BenchRow> rows = new ArrayList<>();
        CudaContext ctx = CudaContext.open(0, config.parameterCount() * 2 + (1L << 30), kvBytes, 16L << 30);
        try (CudaBackend backend = CudaBackend.create(ctx, graphs, precision)) {
            DeviceCeilings ceilings = DeviceCeilings.measure(ctx);
            try (DeepseekV2Model model = new DeepseekV2Model(config,
                    new Weights(new HashedTensorStore(config, 42), backend))) {
                EngineBench.run(model, tokenizer, 1, 64, 4, 8192, deviceSampling, cacheDtype, asyncScheduling,
                        sampling); // warm-up
                for (int c : contexts) {
                    for (int b : batches) {
                        backend.matmulPrecision(precision);
                        long[] graphsBefore = backend.graphCounts();
                        EngineBench.Result r = EngineBench.run(model, tokenizer, b, c, newTokens, 8192,
                                deviceSampling, cacheDtype, asyncScheduling, sampling);
                        long[] graphsAfter = backend.graphCounts();
                        String shape = "B " + b + ", context " + c;
                        double decodeBound = b / bound.decodeStepSeconds(b, c + newTokens / 2, 2, 2,
                                ceilings.copyBytesPerSecond());
                        String variant = (graphs ? " (CUDA graphs)" : "") + (r.asyncScheduling() ? " (async scheduling)" : "")
                                + (sampling.repetitionPenalty() != 1
                                ? " (repetition penalty " + sampling.repetitionPenalty() + ")" : "");
                        add(rows, json, ctx, print(out, new BenchRow("engine decode" + variant, shape,
                                r.decodeTokensPerSecond(), decodeBound, "tok/s", String.format(Locale.ROOT,
                                "%d requests x %d new tokens through the scheduler, %s sampling, %s KV cache, "
                                        + "matmul precision %s%s", b, newTokens, r.deviceSampling() ? "device" : "host",
                                cacheDtype, precision, graphs ? String.format(Locale.ROOT,
                                        ", %d passes replayed from %d graphs captured",
                                        graphsAfter[0] - graphsBefore[0], graphsAfter[1] - graphsBefore[1]) : ""))));
                        double prefillBound = ceilings.bf16FlopsPerSecond() / bound.prefillFlopsPerToken(c);
                        add(rows, json, ctx, print(out, prefillRow(shape, precision, r, prefillBound)));
                        if (other != null) {
                            backend.matmulPrecision(other);   // prefill only: two new tokens, the second as a check
                            EngineBench.Result o = EngineBench.run(model, tokenizer, b, c, 2, 8192, deviceSampling,
                                    cacheDtype, false);
                            add(rows, json, ctx, print(out, prefillRow(shape, other, o, prefillBound)));
                        }
                    }
                }
            }
        }
    }

    /**
     * Adds a row and rewrites the JSON report (when asked for) at once: device-check.sh bounds this run with a
     * timeout, and a run cut short keeps what it measured.
     */
    private static void add(List<BenchRow> rows, Path json, CudaContext ctx, BenchRow row) {
        rows.add(row);
        if (json != null) {
            BenchRow.writeReport(json, "{\"gpu\":" + BenchRow.quote(ctx.device().toString()) + ",\"rows\":["
                    + rows.stream().map(BenchRow::json).collect(Collectors.joining(",\n")) + "]}\n");
        }
    }

    private static BenchRow prefillRow(String shape, MatmulPrecision precision, EngineBench.Result r, double bound) {
        return new BenchRow("engine prefill" + (WGMMA_MOE ? " (wgmma MoE)" : ""), shape + ", " + precision,
                r.prefillTokensPerSecond(), bound, "tok/s", "until every request has its first token (chunks of 8192); "
                        + "matmul precision " + precision + (WGMMA_MOE ? "; MoE above 256 tokens on the wgmma kernels"
                        : ""));
    }

    /** -Dlatentserve.cuda.moeWgmma=true (the CUDA backend's switch): prefill's MoE on the Hopper wgmma kernels. */
    private static final boolean WGMMA_MOE = Boolean.getBoolean("latentserve.cuda.moeWgmma");

    private static BenchRow print(PrintStream out, BenchRow row) {
        out.println(row.tableLine());
        out.flush();
        return row;
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }
}
