package io.latentserve.server.api;

/**
 * llama.cpp's reply to /completion and /infill, and the last event of their streams.
 *
 * @param stopType "eos" (end of sequence or a stop token), "word" (a stop string), "limit" (n_predict or the
 *                 context), "none" (cancelled)
 */
public record LlamaCompletion(String content, boolean stop, String model, int tokensPredicted, int tokensEvaluated,
                              int tokensCached, String stopType, boolean truncated, Timings timings) {

    /** Wall-clock figures of the request, as llama.cpp reports them. */
    public record Timings(int promptN, int predictedN, double predictedMs, double predictedPerSecond) {
    }

    /** A streamed piece of text: {@code {"content": "...", "stop": false}}. */
    public record Chunk(String content, boolean stop) {
    }
}
