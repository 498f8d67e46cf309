package io.latentserve.server.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The accepted API keys (from --api-key and --api-key-file). Keys are kept only as SHA-256 digests and a
 * presented key is compared with every one of them in constant time, so neither the match position nor
 * the number of keys leaks through timing.
 */
public final class ApiKeys {
    private final List<byte[]> digests;

    private ApiKeys(List<byte[]> digests) {
        this.digests = List.copyOf(digests);
    }

    public static ApiKeys none() {
        return new ApiKeys(List.of());
    }

    /**
     * @param keys literal keys (blank ones refused)
     * @param file a file of keys, one per line; blank lines and lines starting with # are ignored; may be null
     */
    public static ApiKeys of(Collection<String> keys, Path file) {
        List<byte[]> digests = new ArrayList<>();
        for (String key : keys) {
            digests.add(digest(requireUsable(key, "--api-key")));
        }
        if (file != null) {
            try {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String key = line.strip();
                    if (!key.isEmpty() && !key.startsWith("#")) {
                        digests.add(digest(requireUsable(key, "--api-key-file " + file)));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the API key file " + file + ": " + e.getMessage(), e);
            }
            if (digests.isEmpty()) {
                throw new IllegalArgumentException("the API key file " + file + " holds no key");
            }
        }
        return new ApiKeys(digests);
    }

    private static String requireUsable(String key, String where) {
        if (key == null || key.isBlank() || key.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException(where + ": API keys must be non-empty and contain no spaces");
        }
        return key;
    }

    /** Whether keys are required at all. */
    public boolean enabled() {
        return !digests.isEmpty();
    }

    /** Checks an Authorization header value ("Bearer KEY"); true when keys are disabled. */
    public boolean acceptsAuthorization(String header) {
        if (!enabled()) {
            return true;
        }
        String key = "";
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            key = header.substring(7).strip();
        }
        byte[] presented = digest(key);
        boolean match = false;
        for (byte[] d : digests) {
            match |= MessageDigest.isEqual(d, presented); // no early exit: same work whichever key matches
        }
        return match && !key.isEmpty();
    }

    private static byte[] digest(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
