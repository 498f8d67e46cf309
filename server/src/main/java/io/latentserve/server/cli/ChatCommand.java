package io.latentserve.server.cli;

import io.latentserve.model.tokenizer.ChatMessage;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * `latentserve chat`: a terminal chat, streamed token by token, against a running server (--url, its
 * /v1/chat/completions) or a checkpoint run in this process (--model DIR, default the built-in demo model).
 * Reads one message per line; /reset forgets the conversation, /exit or the end of input quits.
 */
public final class ChatCommand {
    public static final String USAGE = """
            usage: latentserve chat [--url http://127.0.0.1:8000 | --model DIR] [--system TEXT] [--temperature 0.3]
                                    [--top-p 0.95] [--repetition-penalty 1.1] [--max-tokens 256] [--seed S]
                                    [--api-key KEY] [--device auto|cpu|cuda]
              --url URL          chat with a running `latentserve serve` (or any OpenAI-compatible server)
              --model DIR        run a HuggingFace checkpoint in this process; without --url and --model, the
                                 built-in demo model
              --system TEXT      a system message in front of the conversation
              --api-key KEY      for --url servers started with --api-key (also $LATENTSERVE_API_KEY)
            Type a message and press Enter. /reset forgets the conversation; /exit or Ctrl-D quits.""";

    /** One assistant turn: the text and what it cost. */
    record Reply(String text, int promptTokens, int completionTokens, String finishReason, double tokensPerSecond) {
    }

    /** Where replies come from: a server over HTTP or a model in this process. */
    interface Session extends AutoCloseable {
        /** Streams the reply to the conversation so far, handing each text delta to out as it arrives. */
        Reply reply(List<ChatMessage> messages, java.util.function.Consumer<String> out);

        String description();

        @Override
        void close();
    }

    /** Sampling options shared by both sessions. */
    record Options(double temperature, double topP, double repetitionPenalty, int maxTokens, Long seed) {
    }

    private ChatCommand() {
    }

    public static int run(String[] argv, InputStream in, PrintStream out, PrintStream err) {
        Args args = Args.parse(argv, 1, Set.of());
        String url = args.string("url", null);
        String model = args.string("model", null);
        String system = args.string("system", null);
        String apiKey = args.string("api-key", System.getenv("LATENTSERVE_API_KEY"));
        String device = args.string("device", model == null ? "cpu" : "auto");
        Options options = new Options(args.number("temperature", 0.3), args.number("top-p", 0.95),
                args.number("repetition-penalty", 1.1), args.integer("max-tokens", 256), args.optionalLong("seed"));
        args.rejectUnknown();
        if (url != null && model != null) {
            throw new Args.UsageException("give --url (a running server) or --model (run it here), not both");
        }
        if (options.maxTokens() < 1) {
            throw new Args.UsageException("--max-tokens must be at least 1");
        }
        try (Session session = url != null ? RemoteChat.connect(url, apiKey, options)
                : LocalChat.open(ModelSource.resolve(model, err), device, options, err)) {
            err.println("latentserve chat: " + session.description() + "; /reset forgets, /exit or Ctrl-D quits");
            loop(session, system, in, out, err);
        }
        return 0;
    }

    private static void loop(Session session, String system, InputStream in, PrintStream out, PrintStream err) {
        boolean interactive = System.console() != null && System.console().isTerminal();
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null) {
            messages.add(ChatMessage.system(system));
        }
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        while (true) {
            if (interactive) {
                out.print("> ");
                out.flush();
            }
            String line;
            try {
                line = reader.readLine();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            if (line == null || line.strip().equals("/exit") || line.strip().equals("/quit")) {
                return;
            }
            if (line.isBlank()) {
                continue;
            }
            if (line.strip().equals("/reset")) {
                messages.removeIf(m -> !m.role().equals("system"));
                err.println("(conversation forgotten)");
                continue;
            }
            messages.add(ChatMessage.user(line));
            try {
                Reply reply = session.reply(messages, delta -> {
                    out.print(delta);
                    out.flush();
                });
                out.println();
                out.flush();
                messages.add(ChatMessage.assistant(reply.text()));
                err.printf("(%d prompt tokens, %d generated, finish %s, %.1f tok/s)%n", reply.promptTokens(),
                        reply.completionTokens(), reply.finishReason(), reply.tokensPerSecond());
            } catch (ChatException e) {
                out.println();
                messages.removeLast();
                err.println("latentserve chat: " + e.getMessage());
            }
        }
    }

    /** A turn that failed (the server refused it, the context is full); the chat goes on. */
    static final class ChatException extends RuntimeException {
        ChatException(String message) {
            super(message);
        }
    }
}
