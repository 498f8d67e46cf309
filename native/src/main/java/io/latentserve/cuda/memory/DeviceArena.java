package io.latentserve.cuda.memory;

import io.latentserve.model.MemorySize;
import java.util.Locale;

/**
 * One block of device memory handed out by bumping an offset. The CUDA backend keeps three: weights
 * (filled once at load), the latent KV cache (sized once from free memory and --kv-cache-memory), and
 * activations, {@link #reset()} at the start of every step so a decode step never calls cuMemAlloc
 * (which synchronizes the device and is not allowed during graph capture).
 *
 * <p>Every allocation starts on a {@link #ALIGNMENT}-byte boundary, the alignment cuMemAlloc itself
 * guarantees, so vectorized loads and cuBLAS see the same alignment as with separate allocations.
 * Thread-safe, though the backend uses each arena from one thread.
 */
public final class DeviceArena implements AutoCloseable {
    public static final long ALIGNMENT = 256;

    private final String name;
    private final DeviceMemory memory;
    private final long base;
    private final long capacity;
    private long used;
    private long highWater;
    private boolean closed;

    /**
     * Allocates the arena's block at once. A zero capacity allocates nothing (an arena a configuration
     * does not need); any allocation from it then fails with the usual message.
     *
     * @param name for messages: "weights", "kv cache", "activations"
     */
    public DeviceArena(String name, DeviceMemory memory, long capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException(name + " arena: capacity must be >= 0, got " + capacity);
        }
        this.name = name;
        this.memory = memory;
        this.capacity = capacity;
        this.base = capacity == 0 ? 0 : memory.allocate(capacity);
        if (base % ALIGNMENT != 0) {
            memory.free(base);
            throw new IllegalStateException(name + " arena: device block at 0x" + Long.toHexString(base)
                    + " is not " + ALIGNMENT + "-byte aligned");
        }
    }

    /** Rounds up to the arena alignment. */
    public static long align(long bytes) {
        return (bytes + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** The device address of {@code bytes} fresh bytes (contents undefined), aligned to {@link #ALIGNMENT}. */
    public synchronized long allocate(long bytes) {
        if (closed) {
            throw new IllegalStateException(name + " arena is closed");
        }
        if (bytes < 0) {
            throw new IllegalArgumentException(name + " arena: cannot allocate " + bytes + " bytes");
        }
        long start = used;
        long size = align(bytes);
        if (size > capacity - start) {
            throw new ArenaExhaustedException(String.format(Locale.ROOT,
                    "%s arena exhausted: %s requested, %s of %s used, %s free", name, MemorySize.human(bytes),
                    MemorySize.human(used), MemorySize.human(capacity), MemorySize.human(capacity - used)));
        }
        used = start + size;
        highWater = Math.max(highWater, used);
        return base + start;
    }

    /** Frees everything allocated so far (the activation arena does this at the start of each step). */
    public synchronized void reset() {
        used = 0;
    }

    /** The current offset, to {@link #resetTo} later: frees what a scope allocated, keeping what came before. */
    public synchronized long mark() {
        return used;
    }

    public synchronized void resetTo(long mark) {
        if (mark < 0 || mark > used || mark % ALIGNMENT != 0) {
            throw new IllegalArgumentException(name + " arena: bad mark " + mark + " (used " + used + ")");
        }
        used = mark;
    }

    public String name() {
        return name;
    }

    /** Device address of the block (0 for an empty arena). */
    public long base() {
        return base;
    }

    public synchronized long used() {
        return used;
    }

    public long capacity() {
        return capacity;
    }

    public synchronized long remaining() {
        return capacity - used;
    }

    /** The most ever in use at once, to size the activation arena from a real run. */
    public synchronized long highWater() {
        return highWater;
    }

    /** Whether [address, address + bytes) lies inside the arena's block. */
    public boolean contains(long address, long bytes) {
        return bytes >= 0 && address >= base && address - base <= capacity - bytes;
    }

    /** Frees the block; addresses handed out before are invalid afterwards. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            if (capacity > 0) {
                memory.free(base);
            }
        }
    }

    @Override
    public synchronized String toString() {
        return name + " arena (" + MemorySize.human(used) + " of " + MemorySize.human(capacity) + " used)";
    }
}
