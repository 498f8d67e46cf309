package io.latentserve.server.engine.sample;

/**
 * What {@link StopChecker#accept} decided for one token.
 *
 * @param text         text that may be sent to the client now (possibly empty)
 * @param finishReason null while the sequence goes on
 * @param stopString   the stop string that matched, else null
 * @param stopTokenId  the stop or EOS token id that matched, else null
 */
public record StopDecision(String text, FinishReason finishReason, String stopString, Integer stopTokenId) {

    public boolean finished() {
        return finishReason != null;
    }
}
