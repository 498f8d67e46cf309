package io.latentserve.server.security;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ApiKeysTest {

    @Test
    void withoutKeysEverythingIsAccepted() {
        assertTrue(ApiKeys.none().acceptsAuthorization(null));
        assertFalse(ApiKeys.none().enabled());
    }

    @Test
    void onlyAConfiguredBearerKeyIsAccepted(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("keys");
        Files.writeString(file, "# team keys\n\nsk-file-1\n  sk-file-2  \n");
        ApiKeys keys = ApiKeys.of(List.of("sk-cli"), file);
        assertTrue(keys.acceptsAuthorization("Bearer sk-cli"));
        assertTrue(keys.acceptsAuthorization("bearer sk-file-1"));
        assertTrue(keys.acceptsAuthorization("Bearer sk-file-2"));
        assertFalse(keys.acceptsAuthorization("Bearer sk-file-3"));
        assertFalse(keys.acceptsAuthorization("sk-cli"), "the Bearer scheme is required");
        assertFalse(keys.acceptsAuthorization("Bearer "));
        assertFalse(keys.acceptsAuthorization(null));
        assertFalse(keys.acceptsAuthorization("Bearer # team keys"));
    }

    @Test
    void unusableKeysAreRefusedAtStartUp(@TempDir Path dir) throws IOException {
        assertThrows(IllegalArgumentException.class, () -> ApiKeys.of(List.of(" "), null));
        assertThrows(IllegalArgumentException.class, () -> ApiKeys.of(List.of("a b"), null));
        Path empty = dir.resolve("empty");
        Files.writeString(empty, "# nothing\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ApiKeys.of(List.of(), empty));
        assertTrue(e.getMessage().contains("holds no key"));
        assertThrows(java.io.UncheckedIOException.class, () -> ApiKeys.of(List.of(), dir.resolve("missing")));
    }
}
