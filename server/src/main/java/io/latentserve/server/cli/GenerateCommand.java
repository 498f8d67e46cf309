package io.latentserve.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latentserve.model.LoadedModel;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.DeviceSelector;
import io.latentserve.model.graph.LoadProgress;
import io.latentserve.model.tokenizer.IncrementalDetokenizer;
import io.latentserve.server.engine.sample.SampledToken;
import io.latentserve.server.engine.sample.SamplingParams;
import io.latentserve.server.engine.sample.TopLogprob;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Set;

/**
 * `latentserve generate`: runs one prompt through a checkpoint and prints the continuation, or with --json
 * one object with prompt_ids, output_ids, text and the top-5 logprobs of every generated token, so any
 * checkpoint can be compared with a reference from the command line.
 */
public final class GenerateCommand {
    public static final String USAGE = """
            usage: latentserve generate [--model DIR] --prompt TEXT [--max-tokens N] [--temperature T]
                                        [--top-p P] [--top-k K] [--seed S] [--device auto|cpu|cuda] [--json]
              --model DIR        HuggingFace checkpoint folder; without it, the built-in demo model
              --prompt TEXT      the prompt, tokenized as is (BOS added when the tokenizer asks for it)
              --max-tokens N     tokens to generate (default 32)
              --temperature T    0 = greedy (default 0)
              --json             print one JSON object instead of streaming text""";

    private static final int TOP_LOGPROBS = 5;

    private GenerateCommand() {
    }

    public static int run(String[] argv, PrintStream out, PrintStream err) {
        Args args = Args.parse(argv, 1, Set.of("json"));
        String modelArg = args.string("model", null);
        String prompt = args.string("prompt", null);
        int maxTokens = args.integer("max-tokens", 32);
        boolean json = args.flag("json");
        String device = args.string("device", "auto");
        SamplingParams params = new SamplingParams(args.number("temperature", 0), args.number("top-p", 1),
                args.integer("top-k", -1), 0, 0, 0, 1, null, args.optionalLong("seed"), TOP_LOGPROBS);
        args.rejectUnknown();
        if (prompt == null) {
            throw new Args.UsageException("--prompt is required");
        }
        if (maxTokens < 1) {
            throw new Args.UsageException("--max-tokens must be at least 1");
        }
        Path dir = ModelSource.resolve(modelArg, err);
        try (Backend backend = new DeviceSelector().select(device, err::println);
             LoadedModel loaded = LoadedModel.open(dir, backend, LoadProgress.bar(err, "loading weights"))) {
            var tokenizer = loaded.tokenizer();
            int[] promptIds = tokenizer.encode(prompt, tokenizer.addBosByDefault());
            var detok = new IncrementalDetokenizer(tokenizer, true);
            StringBuilder text = new StringBuilder();
            var generator = new SingleSequenceGenerator(loaded.model());
            var result = generator.generate(promptIds, maxTokens, params, tokenizer.eosId(), token -> {
                String delta = detok.add(token.tokenId());
                text.append(delta);
                if (!json) {
                    out.print(delta);
                    out.flush();
                }
            });
            text.append(detok.flush());
            if (json) {
                out.println(toJson(loaded.name(), backend.name(), result, text.toString()));
            } else {
                out.println();
                err.println(summary(result));
            }
        }
        return 0;
    }

    static String summary(SingleSequenceGenerator.Result r) {
        int n = r.tokens().size();
        double prefill = r.promptIds().length / (r.prefillNanos() / 1e9);
        double decode = n > 1 ? (n - 1) / (r.decodeNanos() / 1e9) : Double.NaN;
        return String.format("%d prompt tokens, %d generated (finish: %s); prefill %.1f tok/s, decode %.1f tok/s",
                r.promptIds().length, n, r.finishReason(), prefill, decode);
    }

    private static String toJson(String model, String device, SingleSequenceGenerator.Result r, String text) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("model", model);
        root.put("device", device);
        ArrayNode promptIds = root.putArray("prompt_ids");
        for (int id : r.promptIds()) {
            promptIds.add(id);
        }
        ArrayNode outputIds = root.putArray("output_ids");
        for (int id : r.outputIds()) {
            outputIds.add(id);
        }
        root.put("text", text);
        root.put("finish_reason", r.finishReason());
        ArrayNode tokens = root.putArray("tokens");
        for (SampledToken t : r.tokens()) {
            ObjectNode tok = tokens.addObject();
            tok.put("id", t.tokenId());
            tok.put("logprob", t.logprob());
            ArrayNode top = tok.putArray("top_logprobs");
            for (TopLogprob lp : t.top()) {
                top.addObject().put("id", lp.tokenId()).put("logprob", lp.logprob());
            }
        }
        return root.toString();
    }
}
