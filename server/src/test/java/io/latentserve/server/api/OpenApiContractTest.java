package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * openapi.yaml is the contract: real requests and replies of the running server, streamed events included,
 * are validated against the schemas the document gives for that path, method, status and content type, and
 * every documented operation is exercised.
 */
class OpenApiContractTest {
    private static final JsonSchemaFactory SCHEMAS = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    private static TestServer server;
    private static JsonNode spec;
    private final Set<String> exercised = new TreeSet<>();

    @BeforeAll
    static void start() throws IOException {
        spec = new ObjectMapper(new YAMLFactory()).readTree(openapiFile().toFile());
        server = TestServer.demo();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** The repository root's openapi.yaml (tests run in the server module folder). */
    private static Path openapiFile() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("openapi.yaml"))) {
                return dir.resolve("openapi.yaml");
            }
        }
        throw new AssertionError("openapi.yaml not found above " + Path.of("").toAbsolutePath());
    }

    /** A schema of the document, with the document's components in reach of its $refs. */
    private static JsonSchema schema(JsonNode schema) {
        ObjectNode root = schema.deepCopy();
        root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        root.set("components", spec.get("components"));
        return SCHEMAS.getSchema(root);
    }

    private static void assertValid(JsonNode schema, JsonNode value, String what) {
        Set<ValidationMessage> errors = schema(schema).validate(value);
        assertTrue(errors.isEmpty(), what + " does not match openapi.yaml: " + errors + "\n" + value);
    }

    private static JsonNode resolve(JsonNode node) {
        while (node.has("$ref")) {
            node = spec.at(node.get("$ref").asText().substring(1));
        }
        return node;
    }

    private JsonNode operation(String method, String template) {
        JsonNode op = spec.at("/paths/" + template.replace("~", "~0").replace("/", "~1") + "/" + method);
        if (op.isMissingNode()) {
            fail(method.toUpperCase() + " " + template + " is not in openapi.yaml");
        }
        return op;
    }

    /** Sends a request, validating what was sent (valid requests only) and what came back. */
    private void exchange(String method, String template, String path, String body, int status) {
        JsonNode op = operation(method, template);
        String what = method.toUpperCase() + " " + path + " " + body;
        if (body != null && status == 200) {
            assertValid(op.at("/requestBody/content/application~1json/schema"), HttpJson.parse(body), "request " + what);
        }
        var reply = method.equals("get") ? server.http.get(path) : server.http.post(path, body);
        assertEquals(status, reply.status(), what + " -> " + reply.text());
        JsonNode response = resolve(op.at("/responses/" + status));
        if (response.isMissingNode()) {
            fail("status " + status + " of " + what + " is not documented");
        }
        if (reply.contentType().startsWith("text/event-stream")) {
            JsonNode events = response.at("/content/text~1event-stream/x-sse-data");
            assertTrue(!events.isMissingNode(), "no event schema for " + what);
            assertTrue(!reply.data().isEmpty());
            for (JsonNode event : reply.events()) {
                assertValid(events, event, "event of " + what);
            }
        } else if (reply.contentType().startsWith("text/plain")) {
            assertTrue(!response.at("/content/text~1plain").isMissingNode(), "text/plain of " + what + " is documented");
        } else {
            assertValid(response.at("/content/application~1json/schema"), reply.json(), "reply to " + what);
        }
        if (status == 200) {
            exercised.add(method.toUpperCase() + " " + template);
        }
    }

    private static final String MSG = "\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, "
            + "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Hi\"}]}]";

    @Test
    void repliesMatchTheDocumentAndEveryOperationIsExercised() {
        String chat = "/v1/chat/completions";
        exchange("post", chat, chat, "{" + MSG + ", \"max_tokens\": 3, \"n\": 2, \"logprobs\": true, "
                + "\"top_logprobs\": 2, \"return_token_ids\": true, \"stop\": [\"\\n\"], \"seed\": 3}", 200);
        exchange("post", chat, chat, "{" + MSG + ", \"max_completion_tokens\": 3, \"stream\": true, \"logprobs\": true, "
                + "\"stream_options\": {\"include_usage\": true}, \"return_token_ids\": true}", 200);
        exchange("post", chat, chat, "{" + MSG + ", \"temperature\": 3}", 400);
        exchange("post", chat, chat, "{" + MSG + ", \"model\": \"nope\"}", 404);
        exchange("post", chat, chat, "{bad json", 400);

        String cmpl = "/v1/completions";
        exchange("post", cmpl, cmpl, "{\"model\": \"demo\", \"prompt\": [\"One\", \"Two\"], \"max_tokens\": 3, "
                + "\"logprobs\": 2, \"echo\": true, \"return_token_ids\": true}", 200);
        exchange("post", cmpl, cmpl, "{\"prompt\": [[256, 65, 66], [67]], \"max_tokens\": 3, \"stream\": true, "
                + "\"logprobs\": 1, \"echo\": true, \"stream_options\": {\"include_usage\": true}}", 200);
        exchange("post", cmpl, cmpl, "{\"prompt\": \"\"}", 400);
        exchange("post", "/beta/completions", "/beta/completions", "{\"prompt\": \"def f(\", \"suffix\": \")\\n\", "
                + "\"max_tokens\": 3}", 200);
        exchange("post", "/beta/completions", "/beta/completions", "{\"prompt\": \"x\", \"top_p\": 3}", 400);

        String infill = "{\"input_prefix\": \"def f(\", \"input_suffix\": \")\\n\", \"input_extra\": "
                + "[{\"filename\": \"a.py\", \"text\": \"x = 1\"}], \"n_predict\": 3";
        exchange("post", "/infill", "/infill", infill + "}", 200);
        exchange("post", "/infill", "/infill", infill + ", \"stream\": true}", 200);
        exchange("post", "/infill", "/infill", "{\"input_prefix\": 1}", 400);
        exchange("post", "/completion", "/completion", "{\"prompt\": \"Hi\", \"n_predict\": 3}", 200);
        exchange("post", "/completion", "/completion", "{\"prompt\": [65, 66], \"n_predict\": 3, \"stream\": true}", 200);
        exchange("post", "/completion", "/completion", "{\"prompt\": []}", 400);

        exchange("post", "/tokenize", "/tokenize", "{\"prompt\": \"Hello\"}", 200);
        exchange("post", "/tokenize", "/tokenize", "{" + MSG + ", \"add_generation_prompt\": false}", 200);
        exchange("post", "/tokenize", "/tokenize", "{}", 400);
        exchange("post", "/detokenize", "/detokenize", "{\"tokens\": [72, 105]}", 200);
        exchange("post", "/detokenize", "/detokenize", "{\"tokens\": [-1]}", 400);
        exchange("get", "/v1/models", "/v1/models", null, 200);
        exchange("get", "/v1/models/{model}", "/v1/models/demo", null, 200);
        exchange("get", "/v1/models/{model}", "/v1/models/other", null, 404);
        exchange("get", "/health", "/health", null, 200);
        exchange("get", "/ready", "/ready", null, 200);
        exchange("get", "/metrics", "/metrics", null, 200);

        List<String> documented = new ArrayList<>();
        spec.get("paths").properties().forEach(p -> p.getValue().fieldNames()
                .forEachRemaining(m -> documented.add(m.toUpperCase() + " " + p.getKey())));
        assertEquals(new TreeSet<>(documented), exercised, "every documented operation answered 200 here");
    }
}
