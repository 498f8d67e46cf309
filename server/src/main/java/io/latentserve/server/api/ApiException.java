package io.latentserve.server.api;

/**
 * A request the API refuses, carrying everything of OpenAI's error shape
 * ({@code {"error":{"message","type","param","code"}}}) and the HTTP status.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final String retryAfterSeconds;

    public ApiException(int status, String type, String message, String param, String code, String retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400 invalid_request_error, naming the offending field (null when it is the request as a whole). */
    public static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", message, param, null, null);
    }

    /** 404 for a {@code model} other than the served one, worded as OpenAI does. */
    public static ApiException modelNotFound(String model) {
        return new ApiException(404, "invalid_request_error", "The model `" + model
                + "` does not exist or you do not have access to it.", "model", "model_not_found", null);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    /** The Retry-After header value, or null. */
    public String retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public ErrorResponse body() {
        return new ErrorResponse(new ErrorResponse.Detail(getMessage(), type, param, code));
    }
}
