package io.latentserve.cuda.driver;

/** Free and total device memory in bytes of the current context's device (cuMemGetInfo). */
public record MemoryInfo(long free, long total) {
}
