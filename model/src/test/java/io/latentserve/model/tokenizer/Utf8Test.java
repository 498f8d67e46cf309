package io.latentserve.model.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Lossy decoding as Rust's from_utf8_lossy does it (the values below are what it, and Python, give). */
class Utf8Test {

    private static String decode(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return Utf8.decode(b, 0, b.length);
    }

    private static int held(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return b.length - Utf8.completeLength(b, b.length);
    }

    @Test
    void maximalSubpartsBecomeOneReplacementEach() {
        assertEquals("\uFFFD\uFFFD", decode(0xE0, 0x80));
        assertEquals("\uFFFD\uFFFD\uFFFD", decode(0xED, 0xA0, 0x80)); // an encoded surrogate
        assertEquals("\uFFFDA", decode(0xE2, 0x41));
        assertEquals("\uFFFD\uFFFD", decode(0xF4, 0x90));
        assertEquals("\uFFFD", decode(0xF0, 0x9F, 0x98));
        assertEquals("\uFFFD\uFFFD", decode(0xC0, 0x80));
        assertEquals("\uFFFD\uFFFD", decode(0xF5, 0x80));
        String mixed = "aé中🚀";
        byte[] b = mixed.getBytes(StandardCharsets.UTF_8);
        assertEquals(mixed, Utf8.decode(b, 0, b.length));
    }

    @Test
    void onlyAValidUnfinishedTailIsHeldBack() {
        assertEquals(0, held(0x41));
        assertEquals(1, held(0x41, 0xE2));
        assertEquals(2, held(0x41, 0xE2, 0x82));
        assertEquals(0, held(0xE2, 0x82, 0xAC));
        assertEquals(3, held(0xF0, 0x9F, 0x9A));
        assertEquals(0, held(0xF0, 0x80)); // can never become valid
        assertEquals(0, held(0xED, 0xA0));
        assertEquals(0, held(0xC1));
        assertEquals(0, held(0x80));
    }
}
