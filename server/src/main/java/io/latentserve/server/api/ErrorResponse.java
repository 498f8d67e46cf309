package io.latentserve.server.api;

/** OpenAI's error body; every field is present, null when it does not apply. */
public record ErrorResponse(Detail error) {
    public record Detail(String message, String type, String param, String code) {
    }
}
