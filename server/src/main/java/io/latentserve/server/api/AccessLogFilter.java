package io.latentserve.server.api;

import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import java.io.PrintStream;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * One line per request in the common log format plus the duration (for streams: until the stream ended).
 * Request bodies are never logged: prompts may be private.
 */
final class AccessLogFilter implements Filter {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT);

    private final PrintStream out;

    AccessLogFilter(PrintStream out) {
        this.out = out;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        long start = System.nanoTime();
        try {
            chain.proceed();
        } finally {
            String line = String.format(Locale.ROOT, "%s - - [%s] \"%s %s %s\" %d %.1fms",
                    req.remotePeer().host(), ZonedDateTime.now().format(TIME), req.prologue().method().text(),
                    req.path().path(), req.prologue().rawProtocol(), res.status().code(),
                    (System.nanoTime() - start) / 1e6);
            synchronized (out) {
                out.println(line);
            }
        }
    }
}
