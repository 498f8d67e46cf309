package io.latentserve.server.engine.sample;

/**
 * Decides, token by token, when one request is done and which text is safe to send. A stop string
 * may span several tokens, so text that could be the start of a stop string is held back until the
 * next tokens show whether it is one; the stop string itself is never sent.
 *
 * <p>Checked in order for each token: EOS (unless ignored), stop token ids, stop strings, then
 * max_tokens and the context length. A stop string completed by the last allowed token reports
 * "stop", not "length". One instance per request; not thread-safe.
 */
public final class StopChecker {
    private final StopConditions conditions;
    private final int longestStop;
    private final StringBuilder text = new StringBuilder();
    private int emitted;         // text[0, emitted) has been sent
    private int numGenerated;
    private StopDecision finish; // non-null once finished

    public StopChecker(StopConditions conditions) {
        this.conditions = conditions;
        this.longestStop = conditions.stopStrings().stream().mapToInt(String::length).max().orElse(0);
    }

    /** Takes the next generated token and the text it added (from the incremental detokenizer). */
    public StopDecision accept(int tokenId, String textDelta) {
        if (finish != null) {
            throw new IllegalStateException("the sequence already finished: " + finish.finishReason().apiName());
        }
        numGenerated++;
        if (!conditions.ignoreEos() && conditions.eosTokenIds().contains(tokenId)
                || conditions.stopTokenIds().contains(tokenId)) {
            return finish(text.length(), FinishReason.STOP, null, tokenId);
        }
        int searchFrom = Math.max(0, text.length() - longestStop + 1);
        text.append(textDelta);
        int[] match = earliestStop(searchFrom);
        if (match != null) {
            return finish(match[0], FinishReason.STOP, conditions.stopStrings().get(match[1]), null);
        }
        if (numGenerated >= conditions.maxTokens()
                || conditions.promptLength() + numGenerated >= conditions.maxModelLength()) {
            return finish(text.length(), FinishReason.LENGTH, null, null);
        }
        int safeEnd = Math.max(emitted, text.length() - heldBackLength());
        return new StopDecision(release(safeEnd), null, null, null);
    }

    private StopDecision finish(int end, FinishReason reason, String stopString, Integer stopTokenId) {
        text.setLength(end);
        finish = new StopDecision(release(end), reason, stopString, stopTokenId);
        return finish;
    }

    private String release(int end) {
        String out = text.substring(emitted, end);
        emitted = end;
        return out;
    }

    // {start, index} of the earliest stop string occurrence starting at or after from; list order breaks ties.
    private int[] earliestStop(int from) {
        int[] best = null;
        for (int i = 0; i < conditions.stopStrings().size(); i++) {
            int at = text.indexOf(conditions.stopStrings().get(i), from);
            if (at >= 0 && (best == null || at < best[0])) {
                best = new int[] {at, i};
            }
        }
        return best;
    }

    // The longest suffix of the text that is a proper prefix of some stop string: it may yet become one.
    private int heldBackLength() {
        int held = 0;
        for (String stop : conditions.stopStrings()) {
            for (int len = Math.min(stop.length() - 1, text.length()); len > held; len--) {
                if (endsWith(stop, len)) {
                    held = len;
                    break;
                }
            }
        }
        return held;
    }

    private boolean endsWith(String stop, int len) {
        int offset = text.length() - len;
        for (int k = 0; k < len; k++) {
            if (text.charAt(offset + k) != stop.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** The generated text so far, cut before a matched stop string. */
    public String text() {
        return text.toString();
    }

    public int numGenerated() {
        return numGenerated;
    }

    public boolean finished() {
        return finish != null;
    }

    /** The finishing decision, or null while the sequence goes on. */
    public StopDecision finishDecision() {
        return finish;
    }
}
