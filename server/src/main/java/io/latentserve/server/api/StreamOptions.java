package io.latentserve.server.api;

/** {@code stream_options}: with include_usage, a last chunk with empty choices carries the usage. */
public record StreamOptions(Boolean includeUsage) {
}
