package io.latentserve.server.cli;

import io.latentserve.model.LoadedModel;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.DeviceSelector;
import io.latentserve.model.graph.LoadProgress;
import io.latentserve.model.tokenizer.ChatMessage;
import io.latentserve.model.tokenizer.ChatTemplate;
import io.latentserve.model.tokenizer.IncrementalDetokenizer;
import io.latentserve.model.tokenizer.Tokenizer;
import io.latentserve.server.engine.sample.SamplingParams;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** `latentserve chat --model DIR`: the checkpoint on a backend in this process, one sequence at a time. */
final class LocalChat implements ChatCommand.Session {
    private static final int MAX_CONTEXT = 8192;

    private final Backend backend;
    private final LoadedModel loaded;
    private final ChatTemplate template;
    private final SingleSequenceGenerator generator;
    private final ChatCommand.Options options;
    private final int context;

    private LocalChat(Backend backend, LoadedModel loaded, ChatCommand.Options options) {
        this.backend = backend;
        this.loaded = loaded;
        this.options = options;
        Tokenizer t = loaded.tokenizer();
        this.template = loaded.tokenizerConfig() != null ? ChatTemplate.fromTokenizerConfig(loaded.tokenizerConfig())
                : ChatTemplate.deepSeekV2(ChatTemplate.DEEPSEEK_BOS, ChatTemplate.DEEPSEEK_EOS);
        this.generator = new SingleSequenceGenerator(loaded.model());
        this.context = Math.min(loaded.model().config().maxPositionEmbeddings(), MAX_CONTEXT);
        if (options.maxTokens() >= context) {
            throw new Args.UsageException("--max-tokens " + options.maxTokens() + " leaves no room for a prompt in this "
                    + "model's context of " + context + " tokens");
        }
        if (t.eosId() < 0) {
            throw new IllegalStateException(loaded.dir() + ": the tokenizer has no end-of-sentence token to stop on");
        }
    }

    static LocalChat open(Path dir, String device, ChatCommand.Options options, PrintStream err) {
        Backend backend = new DeviceSelector().select(device, err::println);
        try {
            LoadedModel loaded = LoadedModel.open(dir, backend, LoadProgress.bar(err, "latentserve: loading weights"));
            try {
                return new LocalChat(backend, loaded, options);
            } catch (RuntimeException e) {
                loaded.close();
                throw e;
            }
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    @Override
    public String description() {
        return "model " + loaded.name() + " on " + backend.name() + " in this process";
    }

    @Override
    public ChatCommand.Reply reply(List<ChatMessage> messages, Consumer<String> out) {
        Tokenizer tokenizer = loaded.tokenizer();
        int[] prompt = fit(messages, tokenizer);
        SamplingParams params = new SamplingParams(options.temperature(), options.topP(), -1, 0, 0, 0,
                options.repetitionPenalty(), null, options.seed(), 0);
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tokenizer, true);
        StringBuilder text = new StringBuilder();
        var result = generator.generate(prompt, Math.min(options.maxTokens(), context - prompt.length), params,
                tokenizer.eosId(), token -> {
                    String delta = detok.add(token.tokenId());
                    text.append(delta);
                    if (!delta.isEmpty()) {
                        out.accept(delta);
                    }
                });
        String rest = detok.flush();
        text.append(rest);
        if (!rest.isEmpty()) {
            out.accept(rest);
        }
        int n = result.tokens().size();
        double rate = n > 1 ? (n - 1) / (result.decodeNanos() / 1e9) : 0;
        return new ChatCommand.Reply(text.toString().strip(), prompt.length, n, result.finishReason(), rate);
    }

    /** The rendered conversation, dropping the oldest turns (never the system message) until it fits. */
    private int[] fit(List<ChatMessage> messages, Tokenizer tokenizer) {
        List<ChatMessage> window = new ArrayList<>(messages);
        while (true) {
            int[] ids = tokenizer.encode(template.render(window, true), false);
            if (ids.length + Math.min(options.maxTokens(), 16) <= context) {
                return ids;
            }
            int first = !window.isEmpty() && window.getFirst().role().equals("system") ? 1 : 0;
            if (window.size() - first <= 1) {
                throw new ChatCommand.ChatException("the message is " + ids.length + " tokens, more than this model's "
                        + "context of " + context + " tokens");
            }
            window.remove(first);
        }
    }

    @Override
    public void close() {
        loaded.close();
        backend.close();
    }
}
