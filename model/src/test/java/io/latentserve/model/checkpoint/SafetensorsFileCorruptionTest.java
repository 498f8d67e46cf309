package io.latentserve.model.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.latentserve.model.checkpoint.RawFiles.assertOpenFails;
import static io.latentserve.model.checkpoint.RawFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every kind of damaged safetensors file gives a CheckpointException naming the file and the tensor. */
class SafetensorsFileCorruptionTest {

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("broken.safetensors");
    }

    /** A header with one tensor "w" whose entry is the given JSON body. */
    private Path withEntry(String entry, int dataBytes) throws IOException {
        return write(file(), "{\"w\":" + entry + "}", dataBytes);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7})
    void fileShorterThanEightBytes(int size) throws IOException {
        Files.write(file(), new byte[size]);
        assertOpenFails(file(), "too short");
    }

    @Test
    void missingFile() {
        assertOpenFails(dir.resolve("absent.safetensors"), "no such file");
    }

    @Test
    void folderInsteadOfFile() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("x.safetensors"));
        assertOpenFails(folder, "folder");
    }

    @Test
    void headerLengthPastEndOfFile() throws IOException {
        write(file(), "{}".getBytes(StandardCharsets.UTF_8), 1000, 0);
        assertOpenFails(file(), "header length 1000", "past the end");
    }

    @Test
    void headerLengthAbove100MB() throws IOException {
        write(file(), "{}".getBytes(StandardCharsets.UTF_8), 100_000_001L, 0);
        assertOpenFails(file(), "100000001", "100 MB");
    }

    @Test
    void headerLengthWithTopBitSetIsHugeNotNegative() throws IOException {
        write(file(), "{}".getBytes(StandardCharsets.UTF_8), -8L, 0);
        assertOpenFails(file(), "18446744073709551608", "100 MB");
    }

    @Test
    void malformedJson() throws IOException {
        write(file(), "{\"w\": {\"dtype\": ", 0);
        assertOpenFails(file(), "not valid JSON");
    }

    @Test
    void trailingGarbageAfterJson() throws IOException {
        write(file(), "{} {}", 0);
        assertOpenFails(file(), "not valid JSON");
    }

    @Test
    void invalidUtf8() throws IOException {
        byte[] header = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        write(file(), header, header.length, 0);
        assertOpenFails(file(), "UTF-8");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "42", "\"text\"", "null", "  "})
    void headerNotAnObject(String header) throws IOException {
        write(file(), header, 0);
        assertOpenFails(file(), "JSON object");
    }

    @Test
    void missingDtype() throws IOException {
        withEntry("{\"shape\":[2],\"data_offsets\":[0,8]}", 8);
        assertOpenFails(file(), "tensor 'w'", "'dtype'");
    }

    @Test
    void missingShape() throws IOException {
        withEntry("{\"dtype\":\"F32\",\"data_offsets\":[0,8]}", 8);
        assertOpenFails(file(), "tensor 'w'", "'shape'");
    }

    @Test
    void missingDataOffsets() throws IOException {
        withEntry("{\"dtype\":\"F32\",\"shape\":[2]}", 8);
        assertOpenFails(file(), "tensor 'w'", "'data_offsets'");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}",
            "{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}",
            "{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}",
            "{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}",
            "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":{\"begin\":0}}",
            "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,\"8\"]}",
            "{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}",
            "[\"F32\",[2],[0,8]]"})
    void wrongJsonTypes(String entry) throws IOException {
        withEntry(entry, 8);
        assertOpenFails(file(), "tensor 'w'", "must be");
    }

    @Test
    void unknownDtype() throws IOException {
        withEntry("{\"dtype\":\"F7\",\"shape\":[2],\"data_offsets\":[0,8]}", 8);
        assertOpenFails(file(), "tensor 'w'", "unknown dtype 'F7'");
    }

    @Test
    void negativeDimension() throws IOException {
        withEntry("{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}", 8);
        assertOpenFails(file(), "tensor 'w'", "negative dimension");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[0]", "[0,8,16]", "[]", "[8,0]", "[-8,0]"})
    void dataOffsetsNotBeginEnd(String offsets) throws IOException {
        withEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" + offsets + "}", 8);
        assertOpenFails(file(), "tensor 'w'", "[begin, end]");
    }

    @Test
    void offsetsPastEndOfData() throws IOException {
        withEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}", 8);
        assertOpenFails(file(), "tensor 'w'", "past the end of the data section (8 bytes)");
    }

    @Test
    void overlappingTensors() throws IOException {
        write(file(), "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertOpenFails(file(), "tensor 'b'", "overlap tensor 'a'");
    }

    @Test
    void overlapIsFoundWhateverTheHeaderOrder() throws IOException {
        write(file(), "{\"late\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[8,12]},"
                + "\"long\":{\"dtype\":\"U8\",\"shape\":[12],\"data_offsets\":[0,12]},"
                + "\"mid\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", 12);
        assertOpenFails(file(), "tensor 'mid'", "overlap tensor 'long'");
    }

    @Test
    void emptyTensorsAndGapsAreNotOverlaps() throws IOException {
        write(file(), "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16);
        try (SafetensorsFile f = SafetensorsFile.open(file())) {
            assertEquals(0, f.get("empty").data().byteSize());
            assertEquals(4, f.get("b").data().byteSize());
        }
    }

    @Test
    void byteLengthDoesNotMatchShape() throws IOException {
        withEntry("{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}", 8);
        assertOpenFails(file(), "tensor 'w'", "holds 8 bytes", "needs 6");
    }

    @Test
    void shapeWhoseByteCountOverflows() throws IOException {
        withEntry("{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}", 8);
        assertOpenFails(file(), "tensor 'w'", "overflows");
    }

    @Test
    void duplicateTensorKey() throws IOException {
        write(file(), "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                + "\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2);
        assertOpenFails(file(), "not valid JSON", "Duplicate", "'w'");
    }

    @Test
    void metadataNotAMapOfStrings() throws IOException {
        write(file(), "{\"__metadata__\":{\"format\":1}}", 0);
        assertOpenFails(file(), "__metadata__", "format");
        write(file(), "{\"__metadata__\":[\"pt\"]}", 0);
        assertOpenFails(file(), "__metadata__", "JSON object");
    }
}
