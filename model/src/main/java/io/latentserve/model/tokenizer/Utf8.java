package io.latentserve.model.tokenizer;

/** UTF-8 helpers for decoding token bytes, whole or as a stream. */
final class Utf8 {
    private Utf8() {
    }

    /**
     * Decodes leniently, as Rust's String::from_utf8_lossy (and so HuggingFace) does: each maximal prefix of a
     * valid sequence that is cut short, and each byte that starts none, becomes one U+FFFD. (Java's own decoder
     * differs on some inputs, e.g. an encoded surrogate ED A0 80 gives it one U+FFFD instead of three.)
     */
    static String decode(byte[] b, int off, int len) {
        StringBuilder sb = new StringBuilder(len);
        int end = off + len;
        int i = off;
        while (i < end) {
            int b0 = b[i] & 0xFF;
            if (b0 < 0x80) {
                sb.append((char) b0);
                i++;
                continue;
            }
            int more = b0 >= 0xF0 ? 3 : b0 >= 0xE0 ? 2 : 1;
            if (b0 < 0xC2 || b0 > 0xF4) {
                sb.append('\uFFFD');
                i++;
                continue;
            }
            int cp = b0 & (0x3F >> more);
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < more; k++, j++) {
                if (j >= end || !continues(b0, k, b[j] & 0xFF)) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (b[j] & 0x3F);
            }
            if (ok) {
                sb.appendCodePoint(cp);
            } else {
                sb.append('\uFFFD');
            }
            i = j;
        }
        return sb.toString();
    }

    /** Whether {@code c} can be continuation byte number {@code k} (0-based) after lead byte {@code lead}. */
    private static boolean continues(int lead, int k, int c) {
        int lo = 0x80;
        int hi = 0xBF;
        if (k == 0) {
            // Exclude overlong forms, surrogates and code points above U+10FFFF.
            if (lead == 0xE0) {
                lo = 0xA0;
            } else if (lead == 0xED) {
                hi = 0x9F;
            } else if (lead == 0xF0) {
                lo = 0x90;
            } else if (lead == 0xF4) {
                hi = 0x8F;
            }
        }
        return c >= lo && c <= hi;
    }

    /**
     * How many leading bytes of {@code b[0..len)} can be decoded now without changing the final text: all of them,
     * except a trailing sequence that is valid so far but incomplete (its next bytes may still arrive).
     * Bytes that can never become valid are not held back: they decode to U+FFFD whatever follows.
     */
    static int completeLength(byte[] b, int len) {
        for (int back = 1; back <= 3 && back <= len; back++) {
            int i = len - back;
            int lead = b[i] & 0xFF;
            if (lead < 0x80) {
                return len;
            }
            if (lead >= 0xC0) {
                int need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
                boolean incomplete = lead >= 0xC2 && lead <= 0xF4 && back < need && validSoFar(b, i, len);
                return incomplete ? i : len;
            }
            // a continuation byte: its lead byte, if any, is further back
        }
        return len;
    }

    /** Whether the bytes from a lead byte to the end obey the UTF-8 rules so far. */
    private static boolean validSoFar(byte[] b, int start, int end) {
        int lead = b[start] & 0xFF;
        for (int i = start + 1; i < end; i++) {
            if (!continues(lead, i - start - 1, b[i] & 0xFF)) {
                return false;
            }
        }
        return true;
    }
}
