package io.latentserve.model.checkpoint;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.latentserve.model.checkpoint.RawFiles.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A damaged or misleading index gives a CheckpointException naming the index, the shard and the tensor. */
class ShardedCheckpointTest {

    @TempDir
    Path root;
    Path dir;
    Path index;

    @BeforeEach
    void shards() throws IOException {
        dir = Files.createDirectory(root.resolve("ckpt")).toAbsolutePath().normalize();
        index = dir.resolve(ShardedCheckpoint.INDEX_FILE);
        new SafetensorsWriter().addFloats("a", DType.BF16, new long[] {2}, new float[] {1, 2})
                .write(dir.resolve("s1.safetensors"));
        new SafetensorsWriter().addFloats("b", DType.BF16, new long[] {2}, new float[] {3, 4})
                .write(dir.resolve("s2.safetensors"));
    }

    private void index(String weightMap) throws IOException {
        Files.writeString(index, "{\"metadata\":{\"total_size\":8},\"weight_map\":" + weightMap + "}");
    }

    private CheckpointException fails(String... parts) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir).close());
        assertMessage(e, parts);
        return e;
    }

    @Test
    void readsShardNamesFromTheIndex() throws IOException {
        index("{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}");
        try (TensorStore store = Checkpoint.open(dir)) {
            assertEquals(List.of("a", "b"), List.copyOf(store.names()));
            assertEquals(dir.resolve("s2.safetensors"), store.get("b").file());
        }
    }

    @Test
    void onlyIndexedTensorsAreExposed() throws IOException {
        index("{\"a\":\"s1.safetensors\"}");
        try (ShardedCheckpoint store = ShardedCheckpoint.open(index)) {
            assertEquals(List.of("a"), List.copyOf(store.names()));
            assertEquals(1, store.shards().size());
        }
    }

    @Test
    void missingShardFile() throws IOException {
        index("{\"a\":\"s1.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}");
        fails(index.toString(), dir.resolve("model-00002-of-00002.safetensors").toString(), "does not exist", "'b'");
    }

    @Test
    void tensorMissingFromItsShard() throws IOException {
        index("{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\"}");
        fails(index.toString(), "tensor 'b'", dir.resolve("s1.safetensors").toString(), "does not contain");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../s1.safetensors", "sub/../../s1.safetensors", "/etc/passwd", "", "."})
    void shardOutsideTheFolder(String shard) throws IOException {
        Files.copy(dir.resolve("s1.safetensors"), root.resolve("s1.safetensors"));
        index("{\"a\":\"" + shard + "\"}");
        fails(index.toString(), "'" + shard + "'", "tensor 'a'", "not a file inside");
    }

    @Test
    void shardInSubfolderIsAllowed() throws IOException {
        Files.createDirectory(dir.resolve("sub"));
        Files.move(dir.resolve("s1.safetensors"), dir.resolve("sub/s1.safetensors"));
        index("{\"a\":\"sub/s1.safetensors\"}");
        try (TensorStore store = Checkpoint.open(dir)) {
            assertEquals(dir.resolve("sub/s1.safetensors"), store.get("a").file());
        }
    }

    @Test
    void brokenShardIsReportedWithItsName() throws IOException {
        Files.write(dir.resolve("s2.safetensors"), new byte[3]);
        index("{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}");
        fails(dir.resolve("s2.safetensors").toString(), "too short");
    }

    @Test
    void malformedIndex() throws IOException {
        Files.writeString(index, "{\"weight_map\": {\"a\": ");
        fails(index.toString(), "not valid JSON");
    }

    @Test
    void duplicateKeyInIndex() throws IOException {
        index("{\"a\":\"s1.safetensors\",\"a\":\"s2.safetensors\"}");
        fails(index.toString(), "Duplicate", "'a'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "{\"weight_map\":[]}", "[]"})
    void indexWithoutWeightMap(String json) throws IOException {
        Files.writeString(index, json);
        fails(index.toString(), "weight_map");
    }

    @Test
    void weightMapValueNotAString() throws IOException {
        index("{\"a\":1}");
        fails(index.toString(), "tensor 'a'", "shard file name");
    }

    @Test
    void unindexedShardsWithTheSameTensorName() throws IOException {
        new SafetensorsWriter().addFloats("a", DType.BF16, new long[] {1}, new float[] {5})
                .write(dir.resolve("s3.safetensors"));
        fails("tensor 'a'", dir.resolve("s1.safetensors").toString(), dir.resolve("s3.safetensors").toString());
    }
}
