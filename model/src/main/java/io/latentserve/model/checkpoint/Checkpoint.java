package io.latentserve.model.checkpoint;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Finds and opens the weights of a checkpoint folder (or a single file), whichever layout it uses. */
public final class Checkpoint {

    public static final String SINGLE_FILE = "model.safetensors";
    private static final String EXTENSION = ".safetensors";
    private static final String BIN_HINT = "PyTorch .bin checkpoints are not read: convert them to safetensors first";

    private Checkpoint() {
    }

    /**
     * Opens, in this order of preference: the index {@value ShardedCheckpoint#INDEX_FILE} (sharded), a single
     * {@value #SINGLE_FILE}, or every *.safetensors file in the folder as unindexed shards. A path to a
     * .safetensors file or to an index file opens just that.
     */
    public static TensorStore open(Path dirOrFile) {
        if (Files.isDirectory(dirOrFile)) {
            return openFolder(dirOrFile);
        }
        if (!Files.exists(dirOrFile)) {
            throw new CheckpointException(dirOrFile + ": no such checkpoint file or folder");
        }
        String name = dirOrFile.getFileName().toString();
        if (name.endsWith(EXTENSION)) {
            return SafetensorsFile.open(dirOrFile);
        }
        if (name.endsWith(".index.json") && name.contains(EXTENSION)) {
            return ShardedCheckpoint.open(dirOrFile);
        }
        throw new CheckpointException(dirOrFile + ": not a checkpoint: expected a folder, a *.safetensors file or "
                + ShardedCheckpoint.INDEX_FILE + " (" + BIN_HINT + ")");
    }

    private static TensorStore openFolder(Path dir) {
        Path index = dir.resolve(ShardedCheckpoint.INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return ShardedCheckpoint.open(index);
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            return SafetensorsFile.open(single);
        }
        List<Path> files = safetensorsFiles(dir);
        if (files.size() == 1) {
            return SafetensorsFile.open(files.getFirst());
        }
        if (files.size() > 1) {
            return ShardedCheckpoint.ofShards(dir, files);
        }
        throw new CheckpointException(dir + ": no checkpoint found: looked for " + ShardedCheckpoint.INDEX_FILE
                + ", " + SINGLE_FILE + " and *" + EXTENSION + " (" + BIN_HINT + ")");
    }

    /** The folder's *.safetensors files, sorted by name; dot-files (e.g. macOS "._" copies) are skipped. */
    private static List<Path> safetensorsFiles(Path dir) {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*" + EXTENSION)) {
            for (Path p : stream) {
                if (!p.getFileName().toString().startsWith(".") && Files.isRegularFile(p)) {
                    files.add(p);
                }
            }
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot list folder: " + e.getMessage(), e);
        }
        files.sort(null);
        return files;
    }
}
