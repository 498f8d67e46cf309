package io.latentserve.server.engine.sample;

import java.util.Arrays;

/**
 * A sequence's tokens so far, for penalties: {@code tokens[0, promptLength)} is the prompt,
 * {@code tokens[promptLength, length)} the generated tokens. The array may be longer than
 * {@code length}, so an engine can pass its growing buffer without copying.
 */
public record TokenHistory(int[] tokens, int promptLength, int length) {

    public TokenHistory {
        if (promptLength < 0 || length < promptLength || length > tokens.length) {
            throw new IllegalArgumentException("need 0 <= promptLength <= length <= tokens.length, got "
                    + promptLength + ", " + length + ", " + tokens.length);
        }
    }

    public static TokenHistory of(int[] prompt, int[] generated) {
        int[] all = Arrays.copyOf(prompt, prompt.length + generated.length);
        System.arraycopy(generated, 0, all, prompt.length, generated.length);
        return new TokenHistory(all, prompt.length, all.length);
    }

    public static TokenHistory empty() {
        return new TokenHistory(new int[0], 0, 0);
    }

    public int numGenerated() {
        return length - promptLength;
    }
}
