package io.latentserve.server.api;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official OpenAI Java SDK, unmodified, as the client: parsing our replies proves the wire format. */
class OpenAiSdkTest {
    private static TestServer server;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        server = TestServer.demo();
        client = OpenAIOkHttpClient.builder().baseUrl(server.http.base() + "/v1").apiKey("not-needed")
                .maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    private static ChatCompletionCreateParams.Builder chat() {
        return ChatCompletionCreateParams.builder().model(server.model()).addSystemMessage("Be brief.")
                .addUserMessage("Hello, who are you?").maxCompletionTokens(6).temperature(0.0)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true));
    }

    @Test
    void chatCompletion() {
        ChatCompletion c = client.chat().completions().create(chat().n(2).build());
        c.validate(); // every required field present with the right type
        assertEquals(server.model(), c.model());
        assertEquals(2, c.choices().size());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, c.choices().get(0).finishReason());
        assertTrue(c.choices().get(0).message().content().isPresent());
        assertEquals(12, c.usage().orElseThrow().completionTokens());
        assertTrue(c.usage().orElseThrow().promptTokensDetails().orElseThrow().cachedTokens().isPresent());
    }

    @Test
    void chatStreaming() {
        String whole = client.chat().completions().create(chat().build()).choices().get(0).message().content()
                .orElseThrow();
        StringBuilder text = new StringBuilder();
        AtomicReference<Long> completionTokens = new AtomicReference<>();
        var params = chat().streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> {
                chunk.validate();
                chunk.choices().forEach(choice -> choice.delta().content().ifPresent(text::append));
                chunk.usage().ifPresent(u -> completionTokens.set(u.completionTokens()));
            });
        }
        assertEquals(whole, text.toString());
        assertEquals(6L, completionTokens.get());
    }

    private static CompletionCreateParams.Builder completion() {
        return CompletionCreateParams.builder().model(server.model()).prompt("def fibonacci(n):").maxTokens(5)
                .temperature(0.0).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true));
    }

    @Test
    void completions() {
        Completion c = client.completions().create(completion().logprobs(2).build());
        c.validate();
        assertEquals(5, c.usage().orElseThrow().completionTokens());
        assertEquals(5, c.choices().get(0).logprobs().orElseThrow().tokens().orElseThrow().size());
        StringBuilder text = new StringBuilder();
        try (StreamResponse<Completion> stream = client.completions().createStreaming(completion().build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(choice -> text.append(choice.text())));
        }
        assertEquals(c.choices().get(0).text(), text.toString());
        Completion fim = client.completions().create(completion().suffix("\n    return a").build());
        assertEquals(5, fim.usage().orElseThrow().completionTokens());
    }

    @Test
    void models() {
        List<Model> models = client.models().list().data();
        assertEquals(1, models.size());
        assertEquals(server.model(), models.getFirst().id());
        assertEquals("latentserve", models.getFirst().ownedBy());
        assertEquals(server.model(), client.models().retrieve(server.model()).id());
    }

    @Test
    void errorsBecomeTheSdksExceptions() {
        var bad = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat().temperature(5.0).build()));
        assertEquals(400, bad.statusCode());
        assertEquals("temperature", bad.param().orElseThrow());
        assertEquals("invalid_request_error", bad.type().orElseThrow());
        assertTrue(bad.getMessage().contains("temperature must be [0, 2], got 5.0"), bad.getMessage());
        var missing = assertThrows(NotFoundException.class,
                () -> client.chat().completions().create(chat().model("gpt-4o").build()));
        assertEquals("model_not_found", missing.code().orElseThrow());
    }
}
