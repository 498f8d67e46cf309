package io.latentserve.cuda.backend;

import io.latentserve.model.TestData;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.model.graph.Golden;
import io.latentserve.model.graph.ModelLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The golden model (../shared/testdata/tiny-deepseek-v2-lite) end to end on CUDA: step-0 logits of every
 * prompt against DeepSeek's reference, the top-10 logits and logsumexp of all 24 recorded steps (teacher
 * forcing through the paged cache, decode steps absorbed in AUTO), and the greedy continuation, in each
 * MLA form. The bar is the CPU backend's: 1e-3 absolute on the logits.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaGoldenGpuTest {
    private static final int BLOCK = 16;

    private GpuBackends b;
    private DeepseekV2Model model;
    private Golden golden;

    @BeforeAll
    void load() throws IOException {
        Path dir = TestData.require("tiny-deepseek-v2-lite");
        b = GpuBackends.open(1, 1, 2);
        model = (DeepseekV2Model) ModelLoader.load(dir, b.cuda);
        golden = Golden.load(dir);
    }

    @AfterAll
    void close() {
        if (model != null) {
            model.close();
        }
        if (b != null) {
            b.close();
        }
    }

    @ParameterizedTest
    @EnumSource(MlaMode.class)
    void reproducesReferenceLogitsAndGreedyContinuation(MlaMode mode) throws IOException {
        model.setMlaMode(mode);
        try {
            for (Golden.Prompt p : golden.prompts()) {
                checkPrompt(p, mode);
            }
        } finally {
            model.setMlaMode(MlaMode.AUTO);
        }
    }

    private void checkPrompt(Golden.Prompt p, MlaMode mode) throws IOException {
        int total = p.promptIds().length + p.generatedIds().length;
        int blocks = (total + BLOCK - 1) / BLOCK;
        int[] table = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            table[i] = blocks - 1 - i; // not in order: the block table must be honoured
        }
        String shape = p.name() + " (" + p.promptIds().length + " tokens) " + mode;
        try (KvCache cache = model.newKvCache(blocks, BLOCK)) {
            float[] logits = model.forward(ForwardBatch.of(new int[][]{p.promptIds()}, new int[]{0},
                    new int[][]{table}, BLOCK), cache)[0];
            GpuReport.checkAbs("golden step-0 logits", shape, GpuReport.maxAbsErr(logits, p.step0LogitsVector()),
                    Golden.TOLERANCE);
            int[] generated = new int[p.generatedIds().length];
            int mismatches = 0;
            double worst = 0;
            int position = p.promptIds().length;
            for (Golden.Step step : p.steps()) {
                if (step.step() > 0) { // teacher forcing: feed the reference's own previous token
                    int token = p.generatedIds()[step.step() - 1];
                    logits = model.forward(ForwardBatch.of(new int[][]{{token}}, new int[]{position++},
                            new int[][]{table}, BLOCK), cache)[0];
                }
                for (int i = 0; i < step.top10Ids().length; i++) {
                    worst = Math.max(worst, Math.abs(step.top10Logits()[i] - logits[step.top10Ids()[i]]));
                }
                worst = Math.max(worst, Math.abs(step.logsumexp() - Golden.logsumexp(logits)));
                generated[step.step()] = Golden.argmax(logits);
                if (step.margin() > Golden.TOLERANCE && generated[step.step()] != step.tokenId()) {
                    mismatches++;
                }
            }
            GpuReport.checkAbs("golden 24 steps (top-10, lse)", shape, worst, Golden.TOLERANCE);
            GpuReport.checkExact("golden greedy continuation", shape, mismatches, generated.length);
        }
    }
}
