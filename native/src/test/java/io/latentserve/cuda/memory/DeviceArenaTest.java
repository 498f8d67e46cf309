package io.latentserve.cuda.memory;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceArenaTest {
    private static final long BASE = 0x7f00_0000_0000L;

    @Test
    void oneAllocationUpFrontThenAlignedBumps() {
        FakeDeviceMemory memory = new FakeDeviceMemory(BASE);
        DeviceArena arena = new DeviceArena("activations", memory, 4096);

        assertEquals(List.of(4096L), memory.allocations);
        assertEquals(BASE, arena.allocate(100));
        assertEquals(256, arena.used());
        assertEquals(BASE + 256, arena.allocate(256));
        assertEquals(BASE + 512, arena.allocate(1));
        assertEquals(768, arena.used());
        assertEquals(BASE + 768, arena.allocate(0), "a zero-byte allocation takes no room");
        assertEquals(768, arena.used());
        assertEquals(4096 - 768, arena.remaining());
        assertEquals(List.of(4096L), memory.allocations, "bumps never reach the allocator");
    }

    @Test
    void everyAddressIsAlignedTo256() {
        DeviceArena arena = new DeviceArena("weights", new FakeDeviceMemory(BASE), 1 << 20);
        for (long size : new long[] {1, 3, 255, 257, 1000, 4096, 7}) {
            assertEquals(0, arena.allocate(size) % DeviceArena.ALIGNMENT, "size " + size);
        }
        assertEquals(0, DeviceArena.align(0));
        assertEquals(256, DeviceArena.align(1));
        assertEquals(256, DeviceArena.align(256));
        assertEquals(512, DeviceArena.align(257));
    }

    @Test
    void exhaustionNamesTheArenaAndTheNumbers() {
        DeviceArena arena = new DeviceArena("kv cache", new FakeDeviceMemory(BASE), 1024);
        arena.allocate(768);

        ArenaExhaustedException e = assertThrows(ArenaExhaustedException.class, () -> arena.allocate(300));

        assertEquals("kv cache arena exhausted: 300 B requested, 768 B of 1.0 KiB used, 256 B free", e.getMessage());
        assertEquals(768, arena.used(), "a failed allocation changes nothing");
        assertEquals(BASE + 768, arena.allocate(256), "what is left can still be used exactly");
        assertThrows(ArenaExhaustedException.class, () -> arena.allocate(1));
    }

    @Test
    void resetReusesTheSameAddressesEveryStep() {
        DeviceArena arena = new DeviceArena("activations", new FakeDeviceMemory(BASE), 1 << 16);
        long a = arena.allocate(1000);
        long b = arena.allocate(5000);
        arena.reset();
        assertEquals(0, arena.used());
        assertEquals(a, arena.allocate(1000));
        assertEquals(b, arena.allocate(5000));
        assertEquals(DeviceArena.align(1000) + DeviceArena.align(5000), arena.highWater());
    }

    @Test
    void markAndResetToFreeOnlyWhatCameAfter() {
        DeviceArena arena = new DeviceArena("activations", new FakeDeviceMemory(BASE), 1 << 16);
        arena.allocate(300);
        long mark = arena.mark();
        long scoped = arena.allocate(2000);
        arena.resetTo(mark);
        assertEquals(512, arena.used());
        assertEquals(scoped, arena.allocate(10));
        assertThrows(IllegalArgumentException.class, () -> arena.resetTo(1 << 20));
    }

    @Test
    void closeFreesTheBlockOnceAndStopsAllocation() {
        FakeDeviceMemory memory = new FakeDeviceMemory(BASE);
        DeviceArena arena = new DeviceArena("weights", memory, 4096);
        arena.close();
        arena.close();
        assertEquals(List.of(BASE), memory.frees);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> arena.allocate(1));
        assertTrue(e.getMessage().contains("weights arena is closed"), e.getMessage());
    }

    @Test
    void anEmptyArenaAllocatesNothingAndRefusesRequests() {
        FakeDeviceMemory memory = new FakeDeviceMemory(BASE);
        DeviceArena arena = new DeviceArena("kv cache", memory, 0);
        assertTrue(memory.allocations.isEmpty());
        assertThrows(ArenaExhaustedException.class, () -> arena.allocate(1));
        arena.close();
        assertTrue(memory.frees.isEmpty());
    }

    @Test
    void containsChecksTheWholeRange() {
        DeviceArena arena = new DeviceArena("weights", new FakeDeviceMemory(BASE), 1024);
        assertTrue(arena.contains(BASE, 1024));
        assertTrue(arena.contains(BASE + 1000, 24));
        assertFalse(arena.contains(BASE + 1000, 25));
        assertFalse(arena.contains(BASE - 1, 1));
    }

    @Test
    void rejectsBadSizesAndMisalignedBlocks() {
        assertThrows(IllegalArgumentException.class, () -> new DeviceArena("weights", new FakeDeviceMemory(BASE), -1));
        DeviceArena arena = new DeviceArena("weights", new FakeDeviceMemory(BASE), 1024);
        assertThrows(IllegalArgumentException.class, () -> arena.allocate(-5));

        FakeDeviceMemory odd = new FakeDeviceMemory(BASE + 8);
        assertThrows(IllegalStateException.class, () -> new DeviceArena("weights", odd, 1024));
        assertEquals(List.of(BASE + 8), odd.frees, "the misaligned block is given back");
    }
}
