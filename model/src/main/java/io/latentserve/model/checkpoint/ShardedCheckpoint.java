package io.latentserve.model.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A checkpoint split over several safetensors shards in one folder. With an index
 * ({@value #INDEX_FILE}) the index is the authority: its weight_map names the shard of every tensor, and
 * only those tensors are exposed. Without one, every tensor of every shard is exposed and a name found in
 * two shards is an error, since either choice could silently load the wrong weights.
 */
public final class ShardedCheckpoint implements TensorStore {

    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path dir;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> shardOf;

    private ShardedCheckpoint(Path dir, List<SafetensorsFile> shards, Map<String, SafetensorsFile> shardOf) {
        this.dir = dir;
        this.shards = Collections.unmodifiableList(shards);
        this.shardOf = Collections.unmodifiableMap(shardOf);
    }

    /** Opens the shards an index file names, checking that each listed tensor is in its shard. */
    public static ShardedCheckpoint open(Path indexFile) {
        Path index = indexFile.toAbsolutePath().normalize();
        Path dir = index.getParent();
        Map<String, String> weightMap = readWeightMap(index);

        Map<Path, SafetensorsFile> opened = new LinkedHashMap<>();
        try {
            Map<String, SafetensorsFile> shardOf = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String tensor = e.getKey();
                Path shardPath = resolveShard(index, dir, tensor, e.getValue());
                SafetensorsFile shard = opened.get(shardPath);
                if (shard == null) {
                    if (!Files.isRegularFile(shardPath)) {
                        throw new CheckpointException(index + ": shard file " + shardPath + " (holding tensor '" + tensor
                                + "') does not exist");
                    }
                    shard = SafetensorsFile.open(shardPath);
                    opened.put(shardPath, shard);
                }
                if (shard.find(tensor).isEmpty()) {
                    throw new CheckpointException(index + ": tensor '" + tensor + "' is listed in shard " + shardPath
                            + " but that file does not contain it");
                }
                shardOf.put(tensor, shard);
            }
            return new ShardedCheckpoint(dir, new ArrayList<>(opened.values()), shardOf);
        } catch (RuntimeException e) {
            opened.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** Opens shards that have no index; a tensor name found in two of them is an error naming both files. */
    public static ShardedCheckpoint ofShards(Path dir, List<Path> shardFiles) {
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> shardOf = new LinkedHashMap<>();
            for (Path file : shardFiles) {
                SafetensorsFile shard = SafetensorsFile.open(file);
                opened.add(shard);
                for (String tensor : shard.names()) {
                    SafetensorsFile earlier = shardOf.putIfAbsent(tensor, shard);
                    if (earlier != null) {
                        throw new CheckpointException(dir + ": tensor '" + tensor + "' appears in both "
                                + earlier.location() + " and " + file + " (and there is no " + INDEX_FILE
                                + " to say which one is meant)");
                    }
                }
            }
            return new ShardedCheckpoint(dir.toAbsolutePath().normalize(), opened, shardOf);
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = SafetensorsHeader.JSON.readTree(Files.readString(index));
        } catch (JacksonException e) {
            throw new CheckpointException(index + ": not valid JSON: " + SafetensorsHeader.describe(e), e);
        } catch (IOException e) {
            throw new CheckpointException(index + ": cannot read index: " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new CheckpointException(index + ": missing 'weight_map' object (tensor name -> shard file)");
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(index + ": weight_map entry for tensor '" + e.getKey()
                        + "' must be a shard file name, got " + e.getValue());
            }
            result.put(e.getKey(), e.getValue().textValue());
        }
        return result;
    }

    /** The shard's path; names that are absolute or climb out of the folder ("../") are refused. */
    private static Path resolveShard(Path index, Path dir, String tensor, String shardName) {
        Path resolved;
        try {
            Path relative = Path.of(shardName);
            resolved = relative.isAbsolute() ? null : dir.resolve(relative).normalize();
        } catch (InvalidPathException e) {
            resolved = null;
        }
        if (resolved == null || !resolved.startsWith(dir) || resolved.equals(dir)) {
            throw new CheckpointException(index + ": shard '" + shardName + "' for tensor '" + tensor
                    + "' is not a file inside " + dir);
        }
        return resolved;
    }

    /** The folder holding the shards. */
    @Override
    public Path location() {
        return dir;
    }

    @Override
    public Set<String> names() {
        return shardOf.keySet();
    }

    @Override
    public Optional<TensorView> find(String name) {
        SafetensorsFile shard = shardOf.get(name);
        return shard == null ? Optional.empty() : shard.find(name);
    }

    /** The opened shards, in the order first named. */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "ShardedCheckpoint[" + dir + ", " + shards.size() + " shards, " + shardOf.size() + " tensors]";
    }
}
