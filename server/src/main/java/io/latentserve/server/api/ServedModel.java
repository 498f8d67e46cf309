package io.latentserve.server.api;

import io.latentserve.model.LoadedModel;
import io.latentserve.model.tokenizer.ChatTemplate;
import io.latentserve.model.tokenizer.Tokenizer;

import java.nio.file.Path;

/**
 * The model as the API presents it: the name clients must use, its tokenizer and chat template.
 *
 * @param created Unix seconds reported by /v1/models (when the server loaded it)
 */
public record ServedModel(String name, Tokenizer tokenizer, ChatTemplate chatTemplate, long created) {

    /** The checkpoint's own chat template (tokenizer_config.json), or the DeepSeek-V2 format when it has none. */
    public static ServedModel of(LoadedModel loaded, String servedName) {
        Path config = loaded.tokenizerConfig();
        ChatTemplate template = config != null ? ChatTemplate.fromTokenizerConfig(config)
                : ChatTemplate.deepSeekV2(ChatTemplate.DEEPSEEK_BOS, ChatTemplate.DEEPSEEK_EOS);
        String name = servedName != null ? servedName : loaded.name();
        return new ServedModel(name, loaded.tokenizer(), template, System.currentTimeMillis() / 1000);
    }

    /** A {@code model} field names this model, or is absent. */
    public void check(String requested) {
        if (requested != null && !requested.equals(name)) {
            throw ApiException.modelNotFound(requested);
        }
    }
}
