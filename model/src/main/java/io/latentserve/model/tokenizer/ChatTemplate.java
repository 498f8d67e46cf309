package io.latentserve.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a conversation into the prompt text a chat model was trained on: the Jinja {@code chat_template} of
 * tokenizer_config.json (rendered with Jinjava, configured like HuggingFace's environment: trim_blocks,
 * lstrip_blocks, a {@code raise_exception} function), or, for a checkpoint without one, the DeepSeek-V2 chat format.
 * The rendered text starts with the BOS string: tokenize it without adding another BOS.
 */
public final class ChatTemplate {
    /** DeepSeek's BOS and EOS strings (bars U+FF5C, separators U+2581). */
    public static final String DEEPSEEK_BOS = "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>";
    public static final String DEEPSEEK_EOS = "<\uFF5Cend\u2581of\u2581sentence\uFF5C>";

    private final String template; // null: the built-in DeepSeek-V2 format
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;

    private ChatTemplate(String template, String bosToken, String eosToken) {
        this.template = template;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.jinjava = template == null ? null : newJinjava();
    }

    /** A Jinja chat template with the BOS/EOS strings it may refer to. */
    public static ChatTemplate jinja(String template, String bosToken, String eosToken) {
        return new ChatTemplate(template, bosToken, eosToken);
    }

    /** The DeepSeek-V2 chat format (MODEL_SPEC section 5), for checkpoints without a template. */
    public static ChatTemplate deepSeekV2(String bosToken, String eosToken) {
        return new ChatTemplate(null, bosToken, eosToken);
    }

    /** The template of a tokenizer_config.json, or the DeepSeek-V2 format when it has none. */
    public static ChatTemplate fromTokenizerConfig(Path tokenizerConfigJson) {
        JsonNode config = TokenizerJsonLoader.read(tokenizerConfigJson);
        String bos = config.hasNonNull("bos_token") ? TokenizerJsonLoader.tokenString(config.get("bos_token")) : DEEPSEEK_BOS;
        String eos = config.hasNonNull("eos_token") ? TokenizerJsonLoader.tokenString(config.get("eos_token")) : DEEPSEEK_EOS;
        JsonNode t = config.path("chat_template");
        if (t.isArray()) {
            // Newer configs list named templates; the one named "default" is the chat template.
            JsonNode chosen = null;
            for (JsonNode named : t) {
                if (chosen == null || named.path("name").asText().equals("default")) {
                    chosen = named;
                }
            }
            t = chosen == null ? t.path(0) : chosen.path("template");
        }
        return t.isTextual() ? jinja(t.asText(), bos, eos) : deepSeekV2(bos, eos);
    }

    /** Whether this is the built-in format rather than a Jinja template. */
    public boolean isBuiltIn() {
        return template == null;
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return template == null ? renderDeepSeekV2(messages, addGenerationPrompt) : renderJinja(messages, addGenerationPrompt);
    }

    /**
     * bos; system content + "\n\n"; "User: {content}\n\n"; "Assistant: {content}" + eos; then "Assistant:" with no
     * trailing space (a trailing space derails the models). Other roles are skipped, as DeepSeek's template does.
     */
    private String renderDeepSeekV2(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder(bosToken);
        for (ChatMessage m : messages) {
            switch (m.role()) {
                case "user" -> sb.append("User: ").append(m.content()).append("\n\n");
                case "assistant" -> sb.append("Assistant: ").append(m.content()).append(eosToken);
                case "system" -> sb.append(m.content()).append("\n\n");
                default -> { }
            }
        }
        if (addGenerationPrompt) {
            sb.append("Assistant:");
        }
        return sb.toString();
    }

    private String renderJinja(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            list.add(map);
        }
        Map<String, Object> bindings = new HashMap<>();
        bindings.put("messages", list);
        bindings.put("bos_token", bosToken);
        bindings.put("eos_token", eosToken);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result;
        try {
            result = jinjava.renderForResult(template, bindings);
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template failed: " + describe(e), e);
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                Throwable raised = raised(error.getException());
                String what = raised != null ? "chat template raised an exception: " + raised.getMessage()
                        : "chat template error at line " + error.getLineno() + ": " + error.getMessage();
                throw new ChatTemplateException(what, error.getException());
            }
        }
        return result.getOutput();
    }

    private static Throwable raised(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TemplateRaised) {
                return t;
            }
        }
        return null;
    }

    private static String describe(Throwable e) {
        Throwable r = raised(e);
        return r != null ? r.getMessage() : String.valueOf(e.getMessage());
    }

    private static Jinjava newJinjava() {
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                // Message text must never be evaluated as a template itself ("{{ ... }}" in a user message).
                .withNestedInterpretationEnabled(false)
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(
                new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
        return jinjava;
    }

    /** The {@code raise_exception(message)} that HuggingFace templates call to reject a conversation. */
    public static String raiseException(String message) {
        throw new TemplateRaised(message);
    }

    /** Thrown by raise_exception; Jinjava wraps it, and render() unwraps it to report the template's message. */
    private static final class TemplateRaised extends RuntimeException {
        TemplateRaised(String message) {
            super(message);
        }
    }
}
