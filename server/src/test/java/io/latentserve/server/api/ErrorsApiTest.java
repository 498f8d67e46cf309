package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every refusal in OpenAI's error shape, with the right status and param; bad input is never a 500. */
class ErrorsApiTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.demo();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static final String MSG = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";

    /** Asserts the status and OpenAI's error shape, and returns the error object. */
    static JsonNode assertError(HttpJson.Reply r, int status, String param) {
        assertEquals(status, r.status(), r.text());
        assertTrue(r.contentType().startsWith("application/json"), r.contentType());
        JsonNode root = r.json();
        assertEquals(1, root.size(), r.text());
        JsonNode e = root.get("error");
        assertEquals(4, e.size(), r.text());
        assertTrue(e.get("message").isTextual() && !e.get("message").asText().isBlank());
        assertTrue(e.get("type").isTextual());
        assertTrue(e.has("code"));
        if (param == null) {
            assertTrue(e.get("param").isNull(), r.text());
        } else {
            assertEquals(param, e.get("param").asText(), r.text());
        }
        return e;
    }

    @ParameterizedTest(name = "{0} {1} -> {2} {3}")
    @CsvSource(delimiter = '|', textBlock = """
            /v1/chat/completions | {bad                                                          | 400 |
            /v1/chat/completions | '{"messages": [] } trailing'                                  | 400 |
            /v1/chat/completions | []                                                            | 400 |
            /v1/chat/completions | null                                                          | 400 |
            /v1/chat/completions | '"text"'                                                      | 400 |
            /v1/chat/completions | {MSG, "temperature": "hot"}                                   | 400 | temperature
            /v1/chat/completions | {MSG, "temperature": 2.5}                                     | 400 | temperature
            /v1/chat/completions | {MSG, "top_p": 0}                                             | 400 | top_p
            /v1/chat/completions | {MSG, "top_k": -2}                                            | 400 | top_k
            /v1/chat/completions | {MSG, "min_p": 1.5}                                           | 400 | min_p
            /v1/chat/completions | {MSG, "presence_penalty": 3}                                  | 400 | presence_penalty
            /v1/chat/completions | {MSG, "frequency_penalty": -3}                                | 400 | frequency_penalty
            /v1/chat/completions | {MSG, "repetition_penalty": 0}                                | 400 | repetition_penalty
            /v1/chat/completions | {MSG, "n": 1.5}                                               | 400 | n
            /v1/chat/completions | {MSG, "n": 0}                                                 | 400 | n
            /v1/chat/completions | {MSG, "n": 129}                                               | 400 | n
            /v1/chat/completions | {MSG, "stream": "yes"}                                        | 400 | stream
            /v1/chat/completions | {MSG, "max_tokens": 0}                                        | 400 | max_tokens
            /v1/chat/completions | {MSG, "max_tokens": "10"}                                     | 400 | max_tokens
            /v1/chat/completions | {MSG, "max_completion_tokens": -1}                            | 400 | max_completion_tokens
            /v1/chat/completions | {MSG, "seed": "x"}                                            | 400 | seed
            /v1/chat/completions | {MSG, "stop": 5}                                              | 400 | stop
            /v1/chat/completions | {MSG, "stop": [""]}                                           | 400 | stop
            /v1/chat/completions | {MSG, "stop": [null]}                                         | 400 | stop
            /v1/chat/completions | {MSG, "stop_token_ids": [99999]}                              | 400 | stop_token_ids
            /v1/chat/completions | {MSG, "logit_bias": "x"}                                      | 400 | logit_bias
            /v1/chat/completions | {MSG, "logit_bias": {"abc": 1}}                               | 400 | logit_bias
            /v1/chat/completions | {MSG, "logit_bias": {"5": 101}}                               | 400 | logit_bias
            /v1/chat/completions | {MSG, "logit_bias": {"5": null}}                              | 400 | logit_bias
            /v1/chat/completions | {MSG, "logprobs": true, "top_logprobs": 21}                   | 400 | top_logprobs
            /v1/chat/completions | {MSG, "top_logprobs": 2}                                      | 400 | top_logprobs
            /v1/chat/completions | {MSG, "stream_options": {"include_usage": true}}              | 400 | stream_options
            /v1/chat/completions | {MSG, "stream": true, "stream_options": {"include_usage": 1}} | 400 | stream_options.include_usage
            /v1/chat/completions | {MSG, "tools": [{"type": "function"}]}                        | 400 | tools
            /v1/chat/completions | {MSG, "response_format": {"type": "json_object"}}             | 400 | response_format
            /v1/chat/completions | {MSG, "model": "gpt-4o"}                                      | 404 | model
            /v1/chat/completions | {MSG, "model": 5}                                             | 400 | model
            /v1/chat/completions | {MSG, "user": 5}                                              | 400 | user
            /v1/chat/completions | {MSG, "max_tokens": 5000}                                     | 400 | messages
            /v1/chat/completions | {}                                                            | 400 | messages
            /v1/chat/completions | {"messages": []}                                              | 400 | messages
            /v1/chat/completions | {"messages": "Hi"}                                            | 400 | messages
            /v1/chat/completions | {"messages": ["Hi"]}                                          | 400 | messages[0]
            /v1/chat/completions | {"messages": [null]}                                          | 400 | messages[0]
            /v1/chat/completions | {"messages": [{}]}                                            | 400 | messages[0].role
            /v1/chat/completions | {"messages": [{"role": 5, "content": "x"}]}                   | 400 | messages[0].role
            /v1/chat/completions | {"messages": [{"role": "wizard", "content": "x"}]}            | 400 | messages[0].role
            /v1/chat/completions | {"messages": [{"role": "user", "content": 5}]}                | 400 | messages[0].content
            /v1/chat/completions | {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]} | 400 | messages[0].content[0]
            /v1/completions      | {"prompt": ""}                                                | 400 | prompt
            /v1/completions      | {"prompt": []}                                                | 400 | prompt
            /v1/completions      | {"prompt": [[]]}                                              | 400 | prompt
            /v1/completions      | {"prompt": [""]}                                              | 400 | prompt
            /v1/completions      | {"prompt": [1, "a"]}                                          | 400 | prompt
            /v1/completions      | {"prompt": [99999]}                                           | 400 | prompt
            /v1/completions      | {"prompt": [-1]}                                              | 400 | prompt
            /v1/completions      | {"prompt": [1.5]}                                             | 400 | prompt
            /v1/completions      | {"prompt": {}}                                                | 400 | prompt
            /v1/completions      | {"prompt": null}                                              | 400 | prompt
            /v1/completions      | {}                                                            | 400 | prompt
            /v1/completions      | {"prompt": "x", "logprobs": 21}                               | 400 | logprobs
            /v1/completions      | {"prompt": "x", "logprobs": true}                             | 400 | logprobs
            /v1/completions      | {"prompt": "x", "echo": "yes"}                                | 400 | echo
            /v1/completions      | {"prompt": "x", "suffix": 5}                                  | 400 | suffix
            /v1/completions      | {"prompt": "x", "best_of": 3}                                 | 400 | best_of
            /v1/completions      | {"prompt": "x", "max_tokens": 2048}                           | 400 | prompt
            /v1/completions      | {"prompt": "x", "model": "davinci-002"}                       | 404 | model
            /beta/completions    | {"prompt": "x", "suffix": "y", "temperature": -1}             | 400 | temperature
            /infill              | {"input_prefix": 5}                                           | 400 | input_prefix
            /infill              | {"input_prefix": "a", "input_extra": [null]}                  | 400 | input_extra
            /infill              | {"input_prefix": "a", "input_extra": "x"}                     | 400 | input_extra
            /infill              | {"input_prefix": "a", "n_predict": "x"}                       | 400 | n_predict
            /infill              | {"input_prefix": "a", "top_p": 7}                             | 400 | top_p
            /completion          | {"prompt": ""}                                                | 400 | prompt
            /completion          | {"prompt": ["a", "b"]}                                        | 400 | prompt
            /completion          | {"prompt": "x", "n_predict": -5}                              | 400 | n_predict
            /completion          | {"prompt": "x", "stream": 1}                                  | 400 | stream
            /tokenize            | {}                                                            | 400 | prompt
            /tokenize            | {"prompt": "x", "messages": []}                               | 400 | messages
            /tokenize            | {"prompt": 5}                                                 | 400 | prompt
            /tokenize            | {"messages": [{"role": "user"}], "model": "x"}                | 404 | model
            /detokenize          | {}                                                            | 400 | tokens
            /detokenize          | {"tokens": "x"}                                               | 400 | tokens
            /detokenize          | {"tokens": [null]}                                            | 400 | tokens
            /detokenize          | {"tokens": [100000]}                                          | 400 | tokens
            """)
    void badInputIsA4xxInOpenAisShape(String path, String body, int status, String param) {
        assertError(server.http.post(path, body.replace("MSG", MSG)), status, param);
    }

    @Test
    void errorsCarryOpenAisTypesAndCodes() {
        JsonNode notFound = assertError(server.http.post("/v1/chat/completions", "{" + MSG + ", \"model\": \"x\"}"), 404,
                "model");
        assertEquals("model_not_found", notFound.get("code").asText());
        assertEquals("invalid_request_error", notFound.get("type").asText());
        JsonNode tooLong = assertError(server.http.post("/v1/completions", "{\"prompt\": \"" + "7".repeat(2100) + "\"}"),
                400, "prompt");
        assertEquals("context_length_exceeded", tooLong.get("code").asText());
        assertTrue(tooLong.get("message").asText().startsWith("This model's maximum context length is 2048 tokens."));
        JsonNode range = assertError(server.http.post("/v1/chat/completions", "{" + MSG + ", \"top_p\": 2}"), 400,
                "top_p");
        assertTrue(range.get("message").asText().contains("top_p"), range.toString());
        JsonNode url = assertError(server.http.get("/v1/nothing"), 404, null);
        assertEquals("Invalid URL (GET /v1/nothing)", url.get("message").asText());
        assertError(server.http.get("/v1/chat/completions"), 404, null);
    }

    @Test
    void unknownFieldsAndAnAbsentModelAreFine() {
        String body = "{" + MSG + ", \"max_tokens\": 2, \"metadata\": {\"a\": 1}, \"store\": false, "
                + "\"parallel_tool_calls\": true, \"some_future_field\": [1, 2], \"user\": \"u\"}";
        var r = server.http.post("/v1/chat/completions", body);
        assertEquals(200, r.status(), r.text());
        var named = server.http.post("/v1/chat/completions", "{" + MSG + ", \"max_tokens\": 2, \"model\": \"demo\"}");
        assertEquals(200, named.status(), named.text());
    }

    @Test
    @SuppressWarnings("try") // the second stream only has to exist, queued behind the first
    void fullQueueIs429WithRetryAfter() throws Exception {
        try (TestServer small = TestServer.demo("--max-num-seqs", "1", "--max-queued-requests", "1")) {
            String longRun = "{\"prompt\": \"busy\", \"max_tokens\": 1800, \"ignore_eos\": true, \"stream\": true}";
            try (RawSse running = new RawSse(small.running.port(), "/v1/completions", longRun)) {
                running.awaitEvent(1); // admitted and generating: the one batch slot is taken
                try (RawSse waiting = new RawSse(small.running.port(), "/v1/completions", longRun)) {
                    for (int i = 0; i < 200 && small.running.engine().stats().waiting() < 1; i++) {
                        Thread.sleep(10);
                    }
                    var refused = small.http.post("/v1/completions", "{\"prompt\": \"more\", \"max_tokens\": 2}");
                    JsonNode e = assertError(refused, 429, null);
                    assertEquals("rate_limit_exceeded", e.get("code").asText());
                    assertEquals(List.of("1"), refused.headers().allValues("retry-after"));
                }
            }
            small.awaitIdle(); // both streams were cancelled by closing them
        }
    }
}
