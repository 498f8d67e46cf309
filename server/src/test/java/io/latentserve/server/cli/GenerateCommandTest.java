package io.latentserve.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.latentserve.model.TestData;
import io.latentserve.model.graph.Golden;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `latentserve generate --json` on the golden checkpoint reproduces the reference from the command line. */
class GenerateCommandTest {

    private record Run(int status, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = io.latentserve.server.Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void jsonOutputMatchesTheGoldenContinuation() throws Exception {
        Path dir = TestData.require("tiny-deepseek-v2-lite");
        Golden golden = Golden.load(dir);
        Golden.Prompt prompt = golden.prompts().get(1); // the Python function
        Run r = run("generate", "--model", dir.toString(), "--prompt", prompt.text(), "--max-tokens", "24",
                "--device", "cpu", "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        for (int i = 0; i < prompt.promptIds().length; i++) {
            assertEquals(prompt.promptIds()[i], json.get("prompt_ids").get(i).asInt(), "prompt id " + i);
        }
        for (int i = 0; i < 24; i++) {
            JsonNode token = json.get("tokens").get(i);
            Golden.Step step = prompt.steps().get(i);
            assertEquals(prompt.generatedIds()[i], json.get("output_ids").get(i).asInt(), "output id " + i);
            JsonNode top = token.get("top_logprobs");
            assertEquals(5, top.size());
            for (int k = 0; k < 5; k++) {
                assertEquals(step.top10Ids()[k], top.get(k).get("id").asInt(), "step " + i + " top " + k);
                assertEquals(step.top10Logits()[k] - step.logsumexp(), top.get(k).get("logprob").asDouble(),
                        Golden.TOLERANCE, "step " + i + " logprob " + k);
            }
        }
    }

    @Test
    void theDemoModelSaysWhatItIs() {
        Run r = run("generate", "--prompt", "def add(a, b):", "--max-tokens", "4", "--device", "cpu");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("built-in demo model (latentserve-demo-") && r.err().contains("Python"), r.err());
        assertTrue(r.err().contains("4 generated"), r.err());
    }

    @Test
    void mistakesAreClearErrors() {
        Run unknown = run("generate", "--prompt", "x", "--max-token", "4");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("unknown option --max-token"), unknown.err());
        Run cuda = run("generate", "--prompt", "x", "--device", "cuda");
        assertEquals(1, cuda.status());
        assertTrue(cuda.err().contains("--device cuda: no usable GPU"), cuda.err());
        Run missing = run("generate", "--model", "/nonexistent/model", "--prompt", "x");
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("is not a folder"), missing.err());
        assertEquals(2, run("frobnicate").status());
    }
}
