package io.latentserve.server.engine;

import java.util.Map;

/** A consistent snapshot of the engine's gauges and counters (read by /metrics and tests). */
public record EngineStats(int running, int waiting, double kvUsage, long kvCapacityTokens, int freeBlocks,
                          int totalBlocks, long promptTokens, long generationTokens, long preemptions,
                          long prefixQueriedTokens, long prefixHitTokens, long iterations, int maxBatchSeqsSeen,
                          int maxBatchTokensSeen, Map<String, Long> finishedByReason) {
}
