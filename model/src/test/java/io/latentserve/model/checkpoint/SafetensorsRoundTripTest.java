package io.latentserve.model.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What SafetensorsWriter writes, SafetensorsFile and ShardedCheckpoint read back unchanged. */
class SafetensorsRoundTripTest {

    @TempDir
    Path dir;

    /** Values exactly representable in every float dtype, so the round trip must be exact. */
    private static float[] values(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (r.nextInt(512) - 256) / 64f;
        }
        return v;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void singleFileRoundTrip(DType dtype) throws IOException {
        float[] a = values(6, 1);
        float[] b = values(5, 2);
        byte[] ids = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(7).putLong(-3).array();
        Path file = dir.resolve("model.safetensors");
        new SafetensorsWriter()
                .addFloats("a.weight", dtype, new long[] {2, 3}, a)
                .add("ids", DType.I64, new long[] {2}, ids)
                .addFloats("b", dtype, new long[] {5}, b)
                .write(file);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("a.weight", "ids", "b"), List.copyOf(f.names()));
            assertEquals(Map.of("format", "pt"), f.metadata());
            TensorView va = f.get("a.weight");
            assertEquals(dtype, va.dtype());
            assertArrayEquals(new long[] {2, 3}, va.shape());
            assertEquals(file, va.file());
            assertTrue(va.data().isMapped(), "tensor data must be a slice of the mapped file");
            assertTrue(va.data().isReadOnly());
            assertArrayEquals(a, Floats.toFloats(va));
            assertArrayEquals(b, Floats.toFloats(f.get("b")));
            TensorView vids = f.get("ids");
            assertEquals(DType.I64, vids.dtype());
            assertEquals(-3L, vids.data().get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8));
        }
    }

    @Test
    void headerIsSpacePaddedToMultipleOfEight() throws IOException {
        Path file = dir.resolve("x.safetensors");
        new SafetensorsWriter().addFloats("odd_name_", DType.F32, new long[] {1}, new float[] {1}).write(file);
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"}"), header);
        assertTrue(header.stripTrailing().endsWith("}"));
        assertEquals(8 + n + 4, bytes.length);
    }

    @Test
    void scalarAndEmptyTensors() throws IOException {
        Path file = dir.resolve("x.safetensors");
        new SafetensorsWriter()
                .addFloats("scalar", DType.F32, new long[] {}, new float[] {2.5f})
                .addFloats("empty", DType.BF16, new long[] {0, 4}, new float[0])
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {2.5f}, Floats.toFloats(f.get("scalar")));
            assertEquals(0, f.get("empty").data().byteSize());
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void shardedRoundTrip(DType dtype) throws IOException {
        List<SafetensorsWriter.Tensor> tensors = List.of(
                SafetensorsWriter.Tensor.ofFloats("t0", dtype, new long[] {4, 2}, values(8, 10)),
                SafetensorsWriter.Tensor.ofFloats("t1", dtype, new long[] {3}, values(3, 11)),
                SafetensorsWriter.Tensor.ofFloats("t2", dtype, new long[] {2, 2}, values(4, 12)),
                SafetensorsWriter.Tensor.ofFloats("t3", dtype, new long[] {1}, values(1, 13)),
                SafetensorsWriter.Tensor.ofFloats("t4", dtype, new long[] {5}, values(5, 14)));
        Path index = SafetensorsWriter.writeSharded(dir, tensors, 3);
        assertEquals(dir.resolve(ShardedCheckpoint.INDEX_FILE), index);
        assertTrue(Files.isRegularFile(dir.resolve("model-00003-of-00003.safetensors")));
        JsonNode indexJson = new ObjectMapper().readTree(index.toFile());
        long totalBytes = tensors.stream().mapToLong(t -> t.data().length).sum();
        assertEquals(totalBytes, indexJson.path("metadata").path("total_size").asLong());
        assertEquals("model-00001-of-00003.safetensors", indexJson.path("weight_map").path("t0").asText());
        assertEquals("model-00003-of-00003.safetensors", indexJson.path("weight_map").path("t4").asText());

        try (TensorStore store = Checkpoint.open(dir)) {
            ShardedCheckpoint sharded = assertInstanceOf(ShardedCheckpoint.class, store);
            assertEquals(3, sharded.shards().size());
            assertEquals(dir.toAbsolutePath().normalize(), store.location());
            assertEquals(List.of("t0", "t1", "t2", "t3", "t4"), List.copyOf(store.names()));
            for (SafetensorsWriter.Tensor t : tensors) {
                TensorView v = store.get(t.name());
                assertEquals(dtype, v.dtype());
                assertArrayEquals(t.shape(), v.shape());
                assertArrayEquals(t.data(), v.data().toArray(ValueLayout.JAVA_BYTE));
            }
            CheckpointException missing = assertThrows(CheckpointException.class, () -> store.get("nope"));
            RawFiles.assertMessage(missing, "nope", dir.toAbsolutePath().normalize().toString());
        }
    }

    @Test
    void unindexedShardsAreMerged() throws IOException {
        new SafetensorsWriter().addFloats("a", DType.F32, new long[] {1}, new float[] {1}).write(dir.resolve("part1.safetensors"));
        new SafetensorsWriter().addFloats("b", DType.F32, new long[] {1}, new float[] {2}).write(dir.resolve("part2.safetensors"));
        try (TensorStore store = Checkpoint.open(dir)) {
            assertInstanceOf(ShardedCheckpoint.class, store);
            assertEquals(Set.of("a", "b"), store.names());
            assertArrayEquals(new float[] {2}, Floats.toFloats(store.get("b")));
            assertEquals(dir.resolve("part2.safetensors"), store.get("b").file());
        }
    }

    @Test
    void closeUnmapsAndIsIdempotent() throws IOException {
        Path file = dir.resolve("model.safetensors");
        new SafetensorsWriter().addFloats("a", DType.F32, new long[] {1}, new float[] {1}).write(file);
        SafetensorsFile f = SafetensorsFile.open(file);
        TensorView a = f.get("a");
        f.close();
        f.close();
        assertThrows(IllegalStateException.class, () -> a.data().get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void writerRefusesInconsistentTensors() {
        SafetensorsWriter w = new SafetensorsWriter();
        assertThrows(IllegalArgumentException.class, () -> w.add("a", DType.F32, new long[] {2}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addFloats("a", DType.I32, new long[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", DType.U8, new long[] {1}, new byte[1]));
        w.add("a", DType.U8, new long[] {1}, new byte[1]);
        assertThrows(IllegalArgumentException.class, () -> w.add("a", DType.U8, new long[] {1}, new byte[1]));
    }

    /**
     * A tensor starting past 4 GiB in a sparse file: offsets are longs end to end. Skipped where the temp
     * file system lacks the room (a file system without sparse files would really allocate it).
     */
    @Test
    void tensorBeyondFourGigabytes() throws IOException {
        Assumptions.assumeTrue(Files.getFileStore(dir).getUsableSpace() > (16L << 30), "needs free space for a sparse 5 GiB file");
        long begin = (5L << 30) - 4;
        String json = "{\"far\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" + begin + "," + (begin + 4) + "]}}";
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            raf.write(header);
            raf.seek(8 + header.length + begin);
            raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).array());
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {1.5f}, Floats.toFloats(f.get("far")));
        }
    }
}
