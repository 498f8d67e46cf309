package io.latentserve.cuda.memory;

import java.util.ArrayList;
import java.util.List;

/** Hands out made-up device addresses and records every call, so arenas can be tested without a GPU. */
final class FakeDeviceMemory implements DeviceMemory {
    final List<Long> allocations = new ArrayList<>();
    final List<Long> frees = new ArrayList<>();
    private long next;

    FakeDeviceMemory(long firstAddress) {
        this.next = firstAddress;
    }

    @Override
    public long allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("cuMemAlloc needs a positive size");
        }
        long address = next;
        allocations.add(bytes);
        next += DeviceArena.align(bytes) + DeviceArena.ALIGNMENT;
        return address;
    }

    @Override
    public void free(long address) {
        frees.add(address);
    }
}
