package io.latentserve.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latentserve.model.tokenizer.ChatMessage;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** `latentserve chat --url URL`: streams /v1/chat/completions of a running server (SSE, OpenAI's format). */
final class RemoteChat implements ChatCommand.Session {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final URI base;
    private final String apiKey;
    private final ChatCommand.Options options;
    private String model;

    private RemoteChat(URI base, String apiKey, ChatCommand.Options options) {
        this.base = base;
        this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey;
        this.options = options;
    }

    /** Connects and asks the server for its model name (GET /v1/models), failing clearly when it is not there. */
    static RemoteChat connect(String url, String apiKey, ChatCommand.Options options) {
        URI base;
        try {
            base = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
            if (base.getScheme() == null || base.getHost() == null) {
                throw new IllegalArgumentException("no scheme or host");
            }
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--url " + url + " is not a URL like http://127.0.0.1:8000");
        }
        RemoteChat chat = new RemoteChat(base, apiKey, options);
        HttpResponse<String> models = chat.send(chat.request("/v1/models").GET().build(), HttpResponse.BodyHandlers.ofString());
        if (models.statusCode() != 200) {
            throw new IllegalStateException("GET " + base + "/v1/models answered " + models.statusCode() + ": "
                    + errorMessage(models.body()));
        }
        JsonNode data = readJson(models.body()).path("data");
        chat.model = data.isArray() && !data.isEmpty() ? data.get(0).path("id").asText() : null;
        return chat;
    }

    @Override
    public String description() {
        return "model " + model + " at " + base;
    }

    @Override
    public ChatCommand.Reply reply(List<ChatMessage> messages, Consumer<String> out) {
        ObjectNode body = JSON.createObjectNode();
        if (model != null) {
            body.put("model", model);
        }
        ArrayNode list = body.putArray("messages");
        for (ChatMessage m : messages) {
            list.addObject().put("role", m.role()).put("content", m.content());
        }
        body.put("stream", true).putObject("stream_options").put("include_usage", true);
        body.put("temperature", options.temperature()).put("top_p", options.topP()).put("max_tokens", options.maxTokens());
        if (options.repetitionPenalty() != 1) {
            body.put("repetition_penalty", options.repetitionPenalty()); // vLLM's extension, which LatentServe takes
        }
        if (options.seed() != null) {
            body.put("seed", options.seed());
        }
        HttpRequest req = request("/v1/chat/completions").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        HttpResponse<Stream<String>> res = send(req, HttpResponse.BodyHandlers.ofLines());
        try (Stream<String> lines = res.body()) {
            if (res.statusCode() != 200) {
                throw new ChatCommand.ChatException("the server answered " + res.statusCode() + ": "
                        + errorMessage(String.join("\n", lines.toList())));
            }
            return readStream(lines.iterator(), out);
        }
    }

    private static ChatCommand.Reply readStream(Iterator<String> lines, Consumer<String> out) {
        StringBuilder text = new StringBuilder();
        int prompt = 0;
        int completion = 0;
        String finish = null;
        long first = 0;
        long last = 0;
        while (lines.hasNext()) {
            String line = lines.next();
            if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
                continue;
            }
            JsonNode chunk = readJson(line.substring(6));
            if (chunk.has("error")) {
                throw new ChatCommand.ChatException(chunk.path("error").path("message").asText());
            }
            if (chunk.path("usage").isObject()) {
                prompt = chunk.path("usage").path("prompt_tokens").asInt();
                completion = chunk.path("usage").path("completion_tokens").asInt();
            }
            JsonNode choice = chunk.path("choices").path(0);
            String delta = choice.path("delta").path("content").asText("");
            if (!delta.isEmpty()) {
                last = System.nanoTime();
                first = first == 0 ? last : first;
                text.append(delta);
                out.accept(delta);
            }
            if (choice.hasNonNull("finish_reason")) {
                finish = choice.get("finish_reason").asText();
            }
        }
        double rate = completion > 1 && last > first ? (completion - 1) / ((last - first) / 1e9) : 0;
        return new ChatCommand.Reply(text.toString().strip(), prompt, completion, finish, rate);
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(10));
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(req, handler);
        } catch (ConnectException e) {
            throw new IllegalStateException("cannot reach " + base + " (is `latentserve serve` running there?)");
        } catch (IOException e) {
            throw new IllegalStateException("talking to " + base + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    private static JsonNode readJson(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new ChatCommand.ChatException("the server sent something that is not JSON: " + s);
        }
    }

    private static String errorMessage(String body) {
        try {
            JsonNode n = JSON.readTree(body);
            return n.path("error").path("message").asText(body);
        } catch (IOException e) {
            return body;
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
