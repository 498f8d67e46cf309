package io.latentserve.model.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LogitEditsTest {
    @Test
    void stagesRunInOrderEachRoundedToF32() {
        // token 1: bias then repetition (positive: divided); token 2: repetition (negative: multiplied) then
        // presence + 2 x frequency; token 3: banned; token 4 only in the prompt; token 0 untouched.
        var edits = new LogitEdits(new int[]{1, 2, 3, 4}, new float[]{0.5f, 0, -100, 0}, new int[]{0, 2, 0, 0},
                new boolean[]{true, true, false, true}, 1.3, 0.25, 0.125);
        float[] logits = {1f, 2f, -1.5f, 7f, 0.75f};
        edits.apply(logits);
        assertArrayEquals(new float[]{1f, (float) ((float) (2.0 + 0.5) / 1.3), (float) ((float) (-1.5 * 1.3) - 0.5),
                Float.NEGATIVE_INFINITY, (float) (0.75 / 1.3)}, logits);
    }

    @Test
    void aBannedTokenIsNeverSampled() {
        float[] logits = {3f, 1f, 2f};
        var ban = new LogitEdits(new int[]{0}, new float[]{-150}, new int[]{0}, new boolean[]{false}, 1, 0, 0);
        assertEquals(0, RowSampling.greedy().sample(logits));
        assertEquals(2, RowSampling.greedy().withEdits(ban).sample(logits));
        assertEquals(3f, logits[0], "the caller's logits are not edited");
        for (double u = 0; u < 1; u += 0.05) {
            assertEquals(true, new RowSampling(1, 0, 1, u, ban).sample(logits) != 0);
        }
    }

    /** The previous pass's token counts as one more generated token: its entry's, or a new one's. */
    @Test
    void aPendingTokenCountsAsOneMoreGeneratedToken() {
        var edits = new LogitEdits(new int[]{1, 2}, new float[]{0, 1}, new int[]{1, 0}, new boolean[]{true, false},
                1.25, 0.5, 0.25).withPendingRow(3);
        float[] logits = {1f, 2f, -1f, 4f};
        assertThrows(IllegalStateException.class, () -> edits.apply(logits.clone()), "the token is needed");
        float[] known = logits.clone();
        edits.apply(known, 1);   // token 1 generated twice now
        assertEquals(new LogitEdits(new int[]{1, 2}, new float[]{0, 1}, new int[]{2, 0}, new boolean[]{true, false},
                1.25, 0.5, 0.25).edit(2f, 0, 2, true), known[1]);
        assertEquals((float) (-1f + 1f), known[2], "an entry not pending: its bias only");
        float[] fresh = logits.clone();
        edits.apply(fresh, 0);   // token 0 had no entry: once generated, seen
        assertEquals((float) ((float) (1f / 1.25) - (0.25 + 0.5)), fresh[0]);
        assertEquals(known[2], fresh[2]);
        assertThrows(IllegalStateException.class, () -> RowSampling.greedy().withEdits(edits).sample(logits));
        assertEquals(3, RowSampling.greedy().withEdits(edits).sample(logits, 0));
    }

    @Test
    void badEditsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new LogitEdits(new int[]{4, 4}, new float[2], new int[2],
                new boolean[2], 1, 0, 0), "a token twice");
        assertThrows(IllegalArgumentException.class, () -> new LogitEdits(new int[]{1}, new float[1], new int[]{1},
                new boolean[]{false}, 1, 0, 0), "generated but not seen");
        assertThrows(IllegalArgumentException.class, () -> new LogitEdits(new int[]{1}, new float[1], new int[1],
                new boolean[1], 0, 0, 0), "repetition penalty 0");
        assertThrows(IllegalArgumentException.class, () -> new LogitEdits(new int[]{1}, new float[]{Float.NaN},
                new int[1], new boolean[1], 1, 0, 0), "NaN bias");
        var outside = new LogitEdits(new int[]{5}, new float[]{1}, new int[1], new boolean[1], 1, 0, 0);
        assertThrows(IllegalArgumentException.class, () -> outside.apply(new float[5]), "token outside the vocabulary");
    }
}
