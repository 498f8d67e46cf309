package io.latentserve.model.checkpoint;

import io.latentserve.model.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static io.latentserve.model.checkpoint.RawFiles.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoint.open picks the layout a folder uses, and says what it looked for when there is none. */
class CheckpointTest {

    @TempDir
    Path dir;

    private void writeOne(String fileName, String tensor) {
        new SafetensorsWriter().addFloats(tensor, DType.F32, new long[] {1}, new float[] {1}).write(dir.resolve(fileName));
    }

    @Test
    void folderWithModelSafetensors() {
        writeOne("model.safetensors", "a");
        writeOne("other.safetensors", "b"); // ignored: model.safetensors is the checkpoint
        try (TensorStore store = Checkpoint.open(dir)) {
            assertInstanceOf(SafetensorsFile.class, store);
            assertEquals(dir.resolve("model.safetensors"), store.location());
        }
    }

    @Test
    void indexWinsOverSingleFile() {
        writeOne("model.safetensors", "stale");
        SafetensorsWriter.writeSharded(dir, new SafetensorsWriter()
                .addFloats("x", DType.F32, new long[] {1}, new float[] {1})
                .addFloats("y", DType.F32, new long[] {1}, new float[] {2}).tensors(), 2);
        try (TensorStore store = Checkpoint.open(dir)) {
            assertInstanceOf(ShardedCheckpoint.class, store);
            assertTrue(store.find("stale").isEmpty());
        }
    }

    @Test
    void folderWithOneOddlyNamedFile() {
        writeOne("weights.safetensors", "a");
        try (TensorStore store = Checkpoint.open(dir)) {
            assertInstanceOf(SafetensorsFile.class, store);
        }
    }

    @Test
    void filePathsOpenDirectly() {
        writeOne("weights.safetensors", "a");
        try (TensorStore store = Checkpoint.open(dir.resolve("weights.safetensors"))) {
            assertEquals(Set.of("a"), store.names());
        }
        Path index = SafetensorsWriter.writeSharded(dir.resolve("sharded"), new SafetensorsWriter()
                .addFloats("x", DType.F32, new long[] {1}, new float[] {1}).tensors(), 1);
        try (TensorStore store = Checkpoint.open(index)) {
            assertInstanceOf(ShardedCheckpoint.class, store);
        }
    }

    @Test
    void emptyFolderSaysWhatWasLookedFor() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertMessage(e, dir.toString(), "model.safetensors.index.json", "model.safetensors", "*.safetensors", ".bin",
                "convert");
    }

    @Test
    void pytorchBinFolderIsRefusedWithAConversionHint() throws IOException {
        Files.write(dir.resolve("pytorch_model.bin"), new byte[16]);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertMessage(e, dir.toString(), "convert them to safetensors");
        e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir.resolve("pytorch_model.bin")));
        assertMessage(e, "pytorch_model.bin", "convert them to safetensors");
    }

    @Test
    void missingPath() {
        Path nowhere = dir.resolve("nowhere");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(nowhere));
        assertMessage(e, nowhere.toString(), "no such");
    }

    @Test
    void tinyDeepseekV2LiteCheckpoint() {
        Path folder = TestData.require("tiny-deepseek-v2-lite");
        try (TensorStore store = Checkpoint.open(folder)) {
            SafetensorsFile file = assertInstanceOf(SafetensorsFile.class, store);
            assertEquals(Map.of("format", "pt"), file.metadata());
            assertEquals(84 - 1, store.names().size());
            TensorView embed = store.get("model.embed_tokens.weight");
            assertEquals(DType.BF16, embed.dtype());
            assertArrayEquals(new long[] {102400, 64}, embed.shape());
            assertEquals(102400L * 64 * 2, embed.data().byteSize());
            store.get("model.layers.0.self_attn.kv_b_proj.weight").requireShape(128, 32);
            store.get("model.layers.2.mlp.experts.7.down_proj.weight").requireShape(64, 32);
            store.get("lm_head.weight").requireShape(102400, 64);
            float[] norm = Floats.toFloats(store.get("model.norm.weight").requireShape(64));
            for (float v : norm) {
                assertTrue(v > 0.3f && v < 1.7f, "RMSNorm weights are 1 + 0.1·N(0,1): " + v);
            }
        }
    }
}
