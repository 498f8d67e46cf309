package io.latentserve.server.api;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;

/**
 * Errors Helidon answers before our routes run (a body over --max-body-bytes, a request it cannot parse):
 * still in OpenAI's error shape rather than an empty reply.
 */
final class TransportErrors {
    private TransportErrors() {
    }

    static void register(DirectHandlers.Builder handlers, Json json, long maxBodyBytes) {
        DirectHandler handler = (req, type, status, headers, message) -> {
            if (status.code() == 413 || type == DirectHandler.EventType.PAYLOAD_TOO_LARGE) {
                return reply(json, Status.REQUEST_ENTITY_TOO_LARGE_413, new ApiException(413, "invalid_request_error",
                        "The request body is larger than this server accepts (" + maxBodyBytes + " bytes, "
                                + "--max-body-bytes).", null, "request_too_large", null));
            }
            return reply(json, status, new ApiException(status.code(), "invalid_request_error",
                    "Malformed HTTP request" + (message == null ? "." : ": " + message), null, null, null));
        };
        handlers.addHandler(DirectHandler.EventType.PAYLOAD_TOO_LARGE, handler);
        handlers.addHandler(DirectHandler.EventType.BAD_REQUEST, handler);
    }

    private static DirectHandler.TransportResponse reply(Json json, Status status, ApiException e) {
        return DirectHandler.TransportResponse.builder()
                .status(status)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .entity(json.write(e.body()))
                .keepAlive(false) // the rest of the connection cannot be trusted after a transport error
                .build();
    }
}
