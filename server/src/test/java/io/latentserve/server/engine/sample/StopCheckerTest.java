package io.latentserve.server.engine.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StopCheckerTest {
    private static final int EOS = 2;
    private static final int TOKEN = 100;

    private static StopChecker checker(int maxTokens, String... stops) {
        return new StopChecker(new StopConditions(List.of(stops), Set.of(7), Set.of(EOS), false, maxTokens, 10, 4096));
    }

    @Test
    void stopStringSplitAcrossThreeDeltas() {
        StopChecker c = checker(100, "</end>");
        assertEquals("Hello ", c.accept(TOKEN, "Hello </").text());
        StopDecision d = c.accept(TOKEN, "en");
        assertEquals("", d.text());
        assertFalse(d.finished());
        d = c.accept(TOKEN, "d> world");
        assertEquals("", d.text());
        assertEquals(FinishReason.STOP, d.finishReason());
        assertEquals("</end>", d.stopString());
        assertEquals("Hello ", c.text());
        assertTrue(c.finished());
        assertThrows(IllegalStateException.class, () -> c.accept(TOKEN, "more"));
    }

    @Test
    void heldBackTextIsReleasedWhenItTurnsOutNotToBeAStop() {
        StopChecker c = checker(100, "</end>");
        assertEquals("a", c.accept(TOKEN, "a</e").text());
        assertEquals("</ex", c.accept(TOKEN, "x").text());
        assertEquals("b", c.accept(TOKEN, "b").text());
        assertEquals("a</exb", c.text());
    }

    @Test
    void aHeldPrefixCanRestartInsideItself() {
        StopChecker c = checker(100, "abc");
        assertEquals("", c.accept(TOKEN, "ab").text());
        assertEquals("ab", c.accept(TOKEN, "ab").text());
        StopDecision d = c.accept(TOKEN, "c");
        assertEquals("", d.text());
        assertTrue(d.finished());
        assertEquals("ab", c.text());
    }

    @Test
    void multipleStopStringsEarliestOccurrenceWins() {
        StopChecker c = checker(100, "world", "lo w", "STOP");
        StopDecision d = c.accept(TOKEN, "hello world");
        assertEquals("hel", d.text());
        assertEquals("lo w", d.stopString());

        StopChecker c2 = checker(100, "STOP", "END");
        assertEquals("abc ", c2.accept(TOKEN, "abc E").text());
        d = c2.accept(TOKEN, "ND then STOP");
        assertEquals("END", d.stopString());
        assertEquals("", d.text());
        assertEquals("abc ", c2.text());
    }

    @Test
    void stopAtTheVeryStart() {
        StopChecker c = checker(100, "\n\n");
        StopDecision d = c.accept(TOKEN, "\n\nAnswer");
        assertEquals("", d.text());
        assertEquals(FinishReason.STOP, d.finishReason());
        assertEquals("", c.text());
    }

    @Test
    void eosStopsAndReleasesHeldText() {
        StopChecker c = checker(100, "</end>");
        assertEquals("x", c.accept(TOKEN, "x</").text());
        StopDecision d = c.accept(EOS, "<eos>");
        assertEquals("</", d.text());
        assertEquals(FinishReason.STOP, d.finishReason());
        assertEquals(EOS, d.stopTokenId());
        assertNull(d.stopString());
        assertEquals("x</", c.text());
    }

    @Test
    void stopTokenIdsStopEvenWhenEosIsIgnored() {
        StopChecker c = new StopChecker(new StopConditions(List.of(), Set.of(7), Set.of(EOS), true, 100, 0, 4096));
        assertEquals("<eos>", c.accept(EOS, "<eos>").text());
        StopDecision d = c.accept(7, "<|im_end|>");
        assertEquals(7, d.stopTokenId());
        assertEquals("", d.text());
        assertEquals("<eos>", c.text());
    }

    @Test
    void maxTokensEndsWithLengthAndReleasesEverything() {
        StopChecker c = checker(2, "</end>");
        assertEquals("a", c.accept(TOKEN, "a<").text());
        StopDecision d = c.accept(TOKEN, "/");
        assertEquals(FinishReason.LENGTH, d.finishReason());
        assertEquals("</", d.text());
        assertEquals("length", d.finishReason().apiName());
        assertEquals(2, c.numGenerated());
    }

    @Test
    void aStopStringOnTheLastAllowedTokenIsAStop() {
        StopChecker c = checker(2, "end");
        c.accept(TOKEN, "the e");
        assertEquals(FinishReason.STOP, c.accept(TOKEN, "nd").finishReason());
        assertEquals(FinishReason.STOP, c.finishDecision().finishReason());
    }

    @Test
    void contextLengthEndsWithLength() {
        StopChecker c = new StopChecker(StopConditions.lengthOnly(1000, 8, 10));
        assertFalse(c.accept(TOKEN, "a").finished());
        StopDecision d = c.accept(EOS, "b");
        assertEquals(FinishReason.LENGTH, d.finishReason());
        assertEquals("b", d.text());
    }

    @Test
    void conditionsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> checker(0, "x"));
        assertThrows(IllegalArgumentException.class, () -> checker(1, ""));
        assertThrows(IllegalArgumentException.class, () -> StopConditions.lengthOnly(1, 10, 10));
    }
}
