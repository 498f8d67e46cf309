package io.latentserve.model.graph;

import io.latentserve.model.TestData;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The acceptance bar of the foundation: the CPU model, loaded through the normal path, reproduces the
 * golden logits of DeepSeek's reference implementation at every recorded step and its greedy continuation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GoldenModelTest {
    private static final int BLOCK = 16;

    private CpuBackend backend;
    private DeepseekV2Model model;
    private Golden golden;

    @BeforeAll
    void load() throws IOException {
        Path dir = TestData.require("tiny-deepseek-v2-lite");
        backend = new CpuBackend();
        model = (DeepseekV2Model) ModelLoader.load(dir, backend);
        golden = Golden.load(dir);
    }

    @AfterAll
    void close() {
        if (model != null) {
            model.close();
            backend.close();
        }
    }

    @org.junit.jupiter.api.Test
    void tokenizesEveryGoldenPromptToTheReferenceIds() {
        var tokenizer = io.latentserve.model.tokenizer.BpeTokenizer.fromTokenizerJson(
                golden.dir().resolve("tokenizer.json"), golden.dir().resolve("tokenizer_config.json"));
        for (Golden.Prompt p : golden.prompts()) {
            // The chat prompt's text already starts with the BOS string (the template emits it).
            int[] ids = tokenizer.encode(p.text(), p.bosPrepended());
            assertArrayEquals(p.promptIds(), ids, p.name() + ": prompt ids");
        }
    }

    @ParameterizedTest
    @EnumSource(MlaMode.class)
    void reproducesReferenceLogitsAndGreedyContinuation(MlaMode mode) throws IOException {
        model.setMlaMode(mode);
        try {
            for (Golden.Prompt p : golden.prompts()) {
                checkPrompt(p);
            }
        } finally {
            model.setMlaMode(MlaMode.AUTO);
        }
    }

    private void checkPrompt(Golden.Prompt p) throws IOException {
        int total = p.promptIds().length + p.generatedIds().length;
        int blocks = (total + BLOCK - 1) / BLOCK;
        int[] table = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            table[i] = blocks - 1 - i; // deliberately not in order: the block table must be honoured
        }
        try (KvCache cache = model.newKvCache(blocks, BLOCK)) {
            float[] logits = model.forward(ForwardBatch.of(new int[][]{p.promptIds()}, new int[]{0},
                    new int[][]{table}, BLOCK), cache)[0];
            float[] reference = p.step0LogitsVector();
            double worst = 0;
            for (int i = 0; i < reference.length; i++) {
                worst = Math.max(worst, Math.abs(reference[i] - logits[i]));
            }
            assertTrue(worst <= Golden.TOLERANCE, p.name() + " step 0: max |Δlogit| " + worst);
            System.out.printf("golden %-6s %-12s step-0 max |Δlogit| %.2e%n", p.name(), model.mlaModeName(), worst);
            int[] generated = new int[p.generatedIds().length];
            int position = p.promptIds().length;
            for (Golden.Step step : p.steps()) {
                if (step.step() > 0) { // teacher forcing: feed the reference's own previous token
                    int token = p.generatedIds()[step.step() - 1];
                    logits = model.forward(ForwardBatch.of(new int[][]{{token}}, new int[]{position++},
                            new int[][]{table}, BLOCK), cache)[0];
                }
                checkStep(p, step, logits);
                generated[step.step()] = Golden.argmax(logits);
            }
            assertArrayEquals(p.generatedIds(), generated, p.name() + ": greedy continuation");
        }
    }

    private static void checkStep(Golden.Prompt p, Golden.Step step, float[] logits) {
        String where = p.name() + " step " + step.step();
        for (int i = 0; i < step.top10Ids().length; i++) {
            assertEquals(step.top10Logits()[i], logits[step.top10Ids()[i]], Golden.TOLERANCE, where + " top-10 #" + i);
        }
        assertEquals(step.logsumexp(), Golden.logsumexp(logits), Golden.TOLERANCE, where + " logsumexp");
        if (step.margin() > Golden.TOLERANCE) {
            assertEquals(step.tokenId(), Golden.argmax(logits), where + " argmax");
        }
    }
}
