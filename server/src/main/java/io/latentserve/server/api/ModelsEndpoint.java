package io.latentserve.server.api;

import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.List;
import java.util.Map;

/** GET /v1/models, GET /v1/models/{model} and GET /health. */
final class ModelsEndpoint {
    public record ModelList(String object, List<Model> data) {
    }

    /** One served model; max_model_len is vLLM's extension. */
    public record Model(String id, String object, long created, String ownedBy, String root, int maxModelLen) {
    }

    private final ApiContext ctx;

    ModelsEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    void list(ServerRequest req, ServerResponse res) {
        Http.json(res, ctx.json(), 200, new ModelList("list", List.of(model())));
    }

    void retrieve(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("model");
        if (!name.equals(ctx.model().name())) {
            throw ApiException.modelNotFound(name);
        }
        Http.json(res, ctx.json(), 200, model());
    }

    void health(ServerRequest req, ServerResponse res) {
        Http.json(res, ctx.json(), 200, Map.of());
    }

    private Model model() {
        ServedModel m = ctx.model();
        return new Model(m.name(), "model", m.created(), "latentserve", m.name(), ctx.maxModelLen());
    }
}
