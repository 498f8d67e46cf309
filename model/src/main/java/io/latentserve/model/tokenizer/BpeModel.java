package io.latentserve.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE: a pre-token piece becomes its UTF-8 bytes, each byte the vocabulary id of its byte-level
 * character, and then adjacent pairs are merged, lowest merge rank first (leftmost first among equal ranks),
 * until no pair has a merge. A heap over (rank, position) with lazy invalidation makes a piece O(n log n), and
 * results are cached per piece, since real text repeats its words.
 */
final class BpeModel {
    private static final int CACHE_MAX_ENTRIES = 1 << 16;
    private static final int CACHE_MAX_PIECE_CHARS = 64;
    private static final int DEAD = -1;

    private final Map<String, Integer> vocab;
    private final int[] byteIds = new int[256];
    /** (left id, right id) -> merge rank. */
    private final LongIntMap ranks;
    /** merge rank -> id of the merged token. */
    private final int[] mergedIds;
    private final boolean ignoreMerges;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param merges pairs of vocabulary tokens, highest priority first
     * @param ignoreMerges HuggingFace's ignore_merges: a piece that is a whole vocabulary token is that token
     */
    BpeModel(Map<String, Integer> vocab, List<String[]> merges, boolean ignoreMerges, String source) {
        this.vocab = Map.copyOf(vocab);
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) {
            // A byte without a token is dropped, as HuggingFace does when the model has no unk_token.
            byteIds[b] = this.vocab.getOrDefault(String.valueOf(ByteLevel.charOf(b)), DEAD);
        }
        ranks = new LongIntMap(merges.size());
        mergedIds = new int[merges.size()];
        // Walk backwards so that, as in HuggingFace, a repeated pair keeps the rank of its last occurrence.
        for (int rank = merges.size() - 1; rank >= 0; rank--) {
            String[] m = merges.get(rank);
            int left = id(m[0], rank, m, source);
            int right = id(m[1], rank, m, source);
            mergedIds[rank] = id(m[0] + m[1], rank, m, source);
            ranks.putIfAbsent(pair(left, right), rank);
        }
    }

    private int id(String token, int rank, String[] merge, String source) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new TokenizerException(source + ": merge #" + rank + " \"" + merge[0] + " " + merge[1]
                    + "\" needs token \"" + token + "\", which is not in the vocabulary");
        }
        return id;
    }

    private static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    int mergeCount() {
        return mergedIds.length;
    }

    /** Appends the ids of one pre-token piece. */
    void encode(String piece, IntList out) {
        int[] cached = cache.get(piece);
        if (cached == null) {
            cached = merge(piece.getBytes(StandardCharsets.UTF_8));
            if (piece.length() <= CACHE_MAX_PIECE_CHARS) {
                if (cache.size() >= CACHE_MAX_ENTRIES) {
                    cache.clear(); // crude but bounded; a full cache is refilled by the words in use
                }
                cache.put(piece, cached);
            }
        }
        out.addAll(cached);
    }

    private int[] merge(byte[] bytes) {
        if (ignoreMerges) {
            Integer whole = vocab.get(ByteLevel.encode(bytes));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int n = bytes.length;
        int[] sym = new int[n];
        int[] next = new int[n];
        int[] prev = new int[n];
        int head = -1;
        int last = -1;
        for (int i = 0; i < n; i++) {
            sym[i] = byteIds[bytes[i] & 0xFF];
            if (sym[i] == DEAD) {
                continue;
            }
            prev[i] = last;
            next[i] = -1;
            if (last >= 0) {
                next[last] = i;
            } else {
                head = i;
            }
            last = i;
        }
        LongHeap queue = new LongHeap(n);
        for (int i = head; i >= 0 && next[i] >= 0; i = next[i]) {
            offer(queue, i, sym[i], sym[next[i]]);
        }
        while (!queue.isEmpty()) {
            long top = queue.pop();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            int right = next[pos];
            // Entries go stale when a neighbour merged; the pair's rank identifies the pair, so recheck it.
            if (sym[pos] == DEAD || right < 0 || ranks.get(pair(sym[pos], sym[right])) != rank) {
                continue;
            }
            sym[pos] = mergedIds[rank];
            sym[right] = DEAD;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
                offer(queue, pos, sym[pos], sym[next[pos]]);
            }
            if (prev[pos] >= 0) {
                offer(queue, prev[pos], sym[prev[pos]], sym[pos]);
            }
        }
        IntList ids = new IntList(n);
        for (int i = head; i >= 0; i = next[i]) {
            ids.add(sym[i]);
        }
        return ids.toArray();
    }

    private void offer(LongHeap queue, int pos, int left, int right) {
        int rank = ranks.get(pair(left, right));
        if (rank >= 0) {
            queue.push(((long) rank << 32) | pos);
        }
    }
}
