package io.latentserve.model.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hand-made (and deliberately broken) safetensors files for the reader's tests. */
final class RawFiles {
    private RawFiles() {
    }

    /** Writes an 8-byte length, the header text as given, then dataBytes zero bytes. */
    static Path write(Path file, String header, int dataBytes) throws IOException {
        byte[] bytes = header.getBytes(StandardCharsets.UTF_8);
        return write(file, bytes, bytes.length, dataBytes);
    }

    /** Writes a chosen length field (which may lie), the header bytes, then dataBytes zero bytes. */
    static Path write(Path file, byte[] header, long declaredLength, int dataBytes) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(declaredLength).put(header);
        Files.write(file, buf.array());
        return file;
    }

    /** Opening must fail with a CheckpointException whose message contains every one of the given parts. */
    static CheckpointException assertOpenFails(Path file, String... expectedParts) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file).close());
        assertMessage(e, file.toString());
        assertMessage(e, expectedParts);
        return e;
    }

    static void assertMessage(Exception e, String... expectedParts) {
        for (String part : expectedParts) {
            assertTrue(e.getMessage().contains(part), () -> "message lacks '" + part + "': " + e.getMessage());
        }
    }
}
