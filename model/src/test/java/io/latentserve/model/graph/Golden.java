package io.latentserve.model.graph;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The golden outputs of ../shared/testdata/tiny-deepseek-v2-lite (DeepSeek's reference implementation). */
public record Golden(Path dir, List<Prompt> prompts) {

    /** Absolute logit tolerance recommended by the test data's README for a float32 engine. */
    public static final double TOLERANCE = 1e-3;

    public record Step(int step, int tokenId, int[] top10Ids, double[] top10Logits, double logsumexp, double margin) {
    }

    public record Prompt(int index, String name, String text, boolean bosPrepended, int[] promptIds,
                         int[] generatedIds, List<Step> steps, Path step0Logits) {
        public float[] step0LogitsVector() throws IOException {
            ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(step0Logits)).order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[buf.remaining() / 4];
            buf.asFloatBuffer().get(out);
            return out;
        }
    }

    public static Golden load(Path dir) throws IOException {
        JsonNode root = new ObjectMapper().readTree(dir.resolve("golden.json").toFile());
        List<Prompt> prompts = new ArrayList<>();
        for (JsonNode p : root.get("prompts")) {
            List<Step> steps = new ArrayList<>();
            for (JsonNode s : p.get("steps")) {
                JsonNode top = s.get("top10");
                int[] ids = new int[top.size()];
                double[] logits = new double[top.size()];
                for (int i = 0; i < top.size(); i++) {
                    ids[i] = top.get(i).get(0).asInt();
                    logits[i] = top.get(i).get(1).asDouble();
                }
                steps.add(new Step(s.get("step").asInt(), s.get("token_id").asInt(), ids, logits,
                        s.get("logsumexp").asDouble(), s.get("top1_top2_margin").asDouble()));
            }
            prompts.add(new Prompt(p.get("index").asInt(), p.get("name").asText(), p.get("text").asText(),
                    p.get("bos_prepended").asBoolean(), ints(p.get("prompt_ids")), ints(p.get("generated_ids")), steps,
                    dir.resolve(p.get("logits_step0_file").asText())));
        }
        return new Golden(dir, prompts);
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    public static double logsumexp(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
