package io.latentserve.server.engine;

import io.latentserve.model.LoadedModel;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.random.DemoModel;
import io.latentserve.server.engine.sample.SampledToken;
import io.latentserve.server.engine.sample.SamplingParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.latentserve.server.engine.EngineFixture.prompt;
import static io.latentserve.server.engine.EngineFixture.request;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Device sampling changes no token: the demo model served with a backend double that samples rows itself
 * (the CPU backend, with {@link RowSampling#sample} standing in for ls_sample) gives every request of a
 * mixed batch (greedy, seeded temperature / top-k / top-p, penalties and logit bias as logit edits, and
 * requests that need the host sampler: logprobs, min-p) the same tokens and logprobs with device sampling on
 * and off.
 */
class DeviceSamplingEngineTest {
    static final AtomicInteger deviceRows = new AtomicInteger();
    static final AtomicInteger hostRows = new AtomicInteger();
    static final AtomicInteger unorderedSteps = new AtomicInteger();
    static LoadedModel model;

    @BeforeAll
    static void open() throws Exception {
        Path root = Path.of(System.getProperty("java.io.tmpdir"), "latentserve-test-cache");
        Files.createDirectories(root);
        model = LoadedModel.open(DemoModel.ensure(root), samplingDouble(new CpuBackend(2)));
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
            model.model().backend().close();
        }
    }

    /** The CPU backend, but it claims to sample rows, and does so by the reference rules after copying them. */
    static Backend samplingDouble(Backend cpu) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "samplesRows" -> true;
                    case "sampleRows" -> sampleRows(cpu, (Tensor) args[0], (RowSampling[]) args[1]);
                    default -> {
                        try {
                            yield method.invoke(cpu, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    }
                });
    }

    static SampledRows sampleRows(Backend cpu, Tensor logits, RowSampling[] sampling) {
        float[][] rows = cpu.toHostRows(logits);
        int[] tokens = new int[rows.length];
        boolean hostSeen = false;
        for (int r = 0; r < rows.length; r++) {
            if (sampling[r] == null) {
                tokens[r] = SampledRows.NOT_SAMPLED;
                hostRows.incrementAndGet();
                hostSeen = true;
            } else {
                tokens[r] = sampling[r].sample(rows[r]);
                rows[r] = null;
                deviceRows.incrementAndGet();
                if (hostSeen) {
                    unorderedSteps.incrementAndGet(); // the runner promised the sampled rows first
                }
            }
        }
        return new SampledRows(tokens, rows);
    }

    static final SamplingParams GREEDY = SamplingParams.greedy();

    static List<SamplingParams> mix() {
        SamplingParams t = SamplingParams.defaults();
        return List.of(
                GREEDY,
                t.withTemperature(0.8).withTruncation(20, 0.9, 0).withSeed(11L),
                t.withTemperature(1.3).withSeed(12L),
                t.withTruncation(-1, 0.5, 0).withSeed(13L),
                t.withTemperature(0.6).withTruncation(1, 1, 0).withSeed(14L),
                t.withTemperature(1.1).withTruncation(5, 1, 0).withSeed(15L),
                GREEDY.withLogprobs(2),
                t.withTemperature(0.9).withSeed(16L).withLogprobs(0),
                t.withTemperature(0.9).withSeed(17L).withPenalties(0.5, 0.3, 1.2),
                GREEDY.withPenalties(0, 0, 1.3),
                t.withSeed(18L).withLogitBias(Map.of(5, 3f, 7, -100f)),
                t.withTemperature(0.7).withTruncation(0, 1, 0.1).withSeed(19L));
    }

    /**
     * What a request produced: its text (the only trace of the token ids when no logprobs are asked for; the
     * detokenizer turns different ids into different text except in rare merges) and its tokens with logprobs.
     */
    record Output(String text, List<SampledToken> tokens) {
    }

    /** Each request's output, all submitted together so that they share batches. */
    static List<Output> run(boolean deviceSampling) throws InterruptedException {
        List<SamplingParams> mix = mix();
        try (Engine engine = new Engine(model.model(), model.tokenizer(),
                new EngineConfig(16, 256, 16, 256, 4096, 1000, deviceSampling), EngineListener.NONE)) {
            assertEquals(deviceSampling, engine.samplesOnDevice());
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < mix.size(); i++) {
                handles.add(engine.submit(request("r" + i, prompt(40 + i, 5 + 3 * i), mix.get(i), 24)));
            }
            List<Output> out = new ArrayList<>();
            for (RequestHandle h : handles) {
                out.add(tokens(h));
            }
            return out;
        }
    }

    static Output tokens(RequestHandle h) throws InterruptedException {
        List<SampledToken> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        int count = 0;
        while (true) {
            GenerationOutput out = h.next(120, TimeUnit.SECONDS);
            assertTrue(out != null, "request " + h.requestId() + " stalled");
            assertEquals(null, out.error());
            tokens.addAll(out.tokens());
            text.append(out.text());
            count = out.completionTokens();
            if (out.finished()) {
                assertEquals(24, count);
                return new Output(text.toString(), tokens);
            }
        }
    }

    @Test
    void aMixedBatchGetsTheSameTokensWithDeviceSamplingOnAndOff() throws Exception {
        deviceRows.set(0);
        hostRows.set(0);
        List<Output> off = run(false);
        assertEquals(0, deviceRows.get(), "off: nothing sampled by the backend");
        List<Output> on = run(true);
        assertEquals(9 * 24, deviceRows.get(), "on: every token of the 9 eligible requests sampled by the backend");
        assertTrue(hostRows.get() > 0, "on: steps mixed sampled rows with rows for the host sampler");
        assertEquals(0, unorderedSteps.get(), "sampled rows come first in every step");
        List<SamplingParams> mix = mix();
        for (int i = 0; i < mix.size(); i++) {
            assertEquals(off.get(i), on.get(i), "request " + i + " (" + mix.get(i) + ")");
        }
        assertFalse(off.get(0).text().equals(off.get(1).text()) && off.get(0).text().equals(off.get(2).text()),
                "the seeded requests really sample");
        assertEquals(24, on.get(6).tokens().size(), "logprob requests show their ids");
    }

    @Test
    void withoutABackendThatSamplesTheSwitchChangesNothing() throws Exception {
        var cpu = EngineFixture.model();
        int[] p = prompt(7, 9);
        SamplingParams seeded = SamplingParams.defaults().withTemperature(0.8).withSeed(99L);
        int[][] got = new int[2][];
        for (int i = 0; i < 2; i++) {
            try (Engine engine = new Engine(cpu.model(), cpu.tokenizer(),
                    new EngineConfig(4, 256, 16, 64, 4096, 10).withDeviceSampling(i == 0), EngineListener.NONE)) {
                assertFalse(engine.samplesOnDevice(), "the CPU backend samples nothing itself");
                got[i] = EngineFixture.collect(engine.submit(request("x", p, seeded, 12))).tokens();
            }
        }
        assertArrayEquals(got[0], got[1]);
    }
}
