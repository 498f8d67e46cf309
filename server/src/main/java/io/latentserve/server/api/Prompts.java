package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.latentserve.model.tokenizer.ChatMessage;
import io.latentserve.model.tokenizer.ChatTemplateException;
import io.latentserve.model.tokenizer.FimPrompt;
import io.latentserve.model.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/** Turns what clients send (text, token ids, chat messages, code around a cursor) into token ids. */
final class Prompts {
    private Prompts() {
    }

    /**
     * A completions {@code prompt}: a string, a list of strings, a list of token ids or a list of such lists.
     * Each becomes one prompt; BOS is prepended where the tokenizer asks for it and the prompt lacks it.
     */
    static List<Prompt> completion(JsonNode prompt, Tokenizer tokenizer, int vocabSize) {
        if (prompt == null || prompt.isNull()) {
            throw ApiException.invalid("prompt", "Missing required parameter: 'prompt'.");
        }
        List<Prompt> out = new ArrayList<>();
        if (prompt.isTextual()) {
            out.add(text(prompt.asText(), tokenizer));
        } else if (prompt.isArray() && !prompt.isEmpty() && prompt.get(0).isIntegralNumber()) {
            out.add(ids(prompt, tokenizer, vocabSize));
        } else if (prompt.isArray() && !prompt.isEmpty()) {
            for (JsonNode p : prompt) {
                if (p.isTextual()) {
                    out.add(text(p.asText(), tokenizer));
                } else if (p.isArray()) {
                    out.add(ids(p, tokenizer, vocabSize));
                } else {
                    throw wrongPromptType();
                }
            }
        } else if (prompt.isArray()) {
            throw ApiException.invalid("prompt", "The prompt must not be empty.");
        } else {
            throw wrongPromptType();
        }
        return out;
    }

    private static ApiException wrongPromptType() {
        return ApiException.invalid("prompt", "Invalid type for 'prompt': expected a string, an array of strings, "
                + "an array of token ids or an array of arrays of token ids.");
    }

    static Prompt text(String text, Tokenizer tokenizer) {
        if (text.isEmpty()) {
            throw ApiException.invalid("prompt", "The prompt must not be empty.");
        }
        return new Prompt(withBos(tokenizer.encode(text), tokenizer), text);
    }

    private static Prompt ids(JsonNode array, Tokenizer tokenizer, int vocabSize) {
        if (array.isEmpty()) {
            throw ApiException.invalid("prompt", "The prompt must not be empty.");
        }
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode v = array.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0 || v.asInt() >= vocabSize) {
                throw ApiException.invalid("prompt", "Token ids in the prompt must be integers in 0.."
                        + (vocabSize - 1) + ", got " + v);
            }
            ids[i] = v.asInt();
        }
        return new Prompt(withBos(ids, tokenizer), tokenizer.decode(ids));
    }

    /** Prepends BOS when the tokenizer wants it and the prompt does not start with it already. */
    static int[] withBos(int[] ids, Tokenizer tokenizer) {
        int bos = tokenizer.bosId();
        if (!tokenizer.addBosByDefault() || bos < 0 || ids.length > 0 && ids[0] == bos) {
            return ids;
        }
        int[] out = new int[ids.length + 1];
        out[0] = bos;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    /** A chat rendered with the model's template; the template writes BOS itself, so none is added. */
    static Prompt chat(List<ChatMessageIn> messages, ServedModel model, boolean addGenerationPrompt) {
        if (messages == null || messages.isEmpty()) {
            throw ApiException.invalid("messages", "Missing required parameter: 'messages' (at least one message).");
        }
        List<ChatMessage> turns = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i) == null) {
                throw ApiException.invalid("messages[" + i + "]", "Invalid type for 'messages[" + i
                        + "]': expected an object.");
            }
            turns.add(messages.get(i).toChatMessage(i));
        }
        String text;
        try {
            text = model.chatTemplate().render(turns, addGenerationPrompt);
        } catch (ChatTemplateException e) {
            throw ApiException.invalid("messages", e.getMessage());
        }
        return new Prompt(model.tokenizer().encode(text), text);
    }

    /**
     * The DeepSeek-Coder fill-in-the-middle prompt for code before and after the cursor; a prefix that already
     * holds FIM markers was formatted by the client and is used as is.
     *
     * @param middle the start of the middle the user has typed already (llama.cpp's infill prompt), or ""
     */
    static Prompt fim(String prefix, String suffix, String middle, Tokenizer tokenizer, String modelName,
                      String param) {
        if (!FimPrompt.supportedBy(tokenizer)) {
            throw ApiException.invalid(param, "The model " + modelName + " does not support fill-in-the-middle: its "
                    + "tokenizer has no FIM tokens (" + FimPrompt.BEGIN + ", " + FimPrompt.HOLE + ", " + FimPrompt.END
                    + ").");
        }
        String text = FimPrompt.containsMarkers(prefix) ? prefix : FimPrompt.build(prefix, suffix) + middle;
        if (text.isEmpty()) {
            throw ApiException.invalid("prompt", "The prompt must not be empty.");
        }
        return new Prompt(withBos(tokenizer.encode(text), tokenizer), text);
    }

    /** Token ids must name tokens of this model. */
    static int[] checkIds(List<Integer> ids, int vocabSize, String param) {
        if (ids == null) {
            throw ApiException.invalid(param, "Missing required parameter: '" + param + "'.");
        }
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            Integer id = ids.get(i);
            if (id == null || id < 0 || id >= vocabSize) {
                throw ApiException.invalid(param, "Token ids must be integers in 0.." + (vocabSize - 1)
                        + ", got " + id);
            }
            out[i] = id;
        }
        return out;
    }
}
