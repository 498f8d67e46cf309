package io.latentserve.server.api;

import io.helidon.webserver.http.ServerResponse;
import io.latentserve.server.engine.sample.FinishReason;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Streams a submission as server-sent events: openings, outputs as they come, optionally usage, then
 * {@code [DONE]}. A client that disconnects cancels the whole submission so its KV blocks are freed at once;
 * a failure mid-stream becomes an error event, since the 200 status line has been sent already.
 */
final class StreamDriver {
    private static final Logger LOG = Logger.getLogger(StreamDriver.class.getName());

    private StreamDriver() {
    }

    static void run(ServerResponse res, Json json, Submission submission, ChunkFormat format, boolean includeUsage,
                    boolean sendDone) throws InterruptedException {
        OutputMerger merger = new OutputMerger(submission);
        try (SseWriter sse = new SseWriter(res, json)) {
            try {
                stream(sse, merger, submission, format, includeUsage);
                if (sendDone) {
                    sse.done();
                }
            } catch (SseWriter.ClientGone gone) {
                submission.cancel();
            } catch (RuntimeException e) {
                submission.cancel();
                LOG.log(Level.SEVERE, "streaming failed", e);
                sse.data(new ApiException(500, "internal_error", "Internal error while streaming: " + e, null, null,
                        null).body());
            } catch (InterruptedException e) {
                submission.cancel();
                throw e;
            }
        } catch (SseWriter.ClientGone gone) {
            submission.cancel(); // the error event itself could not be written
        }
    }

    private static void stream(SseWriter sse, OutputMerger merger, Submission submission, ChunkFormat format,
                               boolean includeUsage) throws InterruptedException {
        for (Submission.Choice c : submission.choices()) {
            format.opening(c).forEach(sse::data);
        }
        UsageCounter usage = new UsageCounter();
        while (merger.hasMore()) {
            OutputMerger.Event e = merger.next();
            if (e.output().finishReason() == FinishReason.ERROR) {
                submission.cancel();
                sse.data(new ApiException(500, "internal_error", "Generation failed: " + e.output().error(), null,
                        null, null).body());
                return;
            }
            format.output(e.choice(), e.output()).forEach(sse::data);
            if (e.output().finished()) {
                usage.add(e.choice().promptIndex(), e.output());
            }
        }
        Object usageEvent = includeUsage ? format.usage(usage.usage()) : null;
        if (usageEvent != null) {
            sse.data(usageEvent);
        }
    }
}
