package io.latentserve.server.engine.sample;

/**
 * Chooses the candidate tokens left after top-k, top-p and min-p, applied in that order to the
 * processed (temperature-scaled) logits, without sorting the vocabulary:
 * <ul>
 *   <li>top-k keeps a bounded min-heap of the k best in one pass, O(V log k), then orders those k;</li>
 *   <li>top-p alone first drops tokens too light to be in the nucleus, by a bound on what they can
 *       weigh together (see {@link #narrowNucleus}); the rest is heapified and popped only until the
 *       nucleus is complete;</li>
 *   <li>without either, candidates stay in id order and nothing is sorted.</li>
 * </ul>
 * Ties rank the lower token id first, so top_k = 1 picks what greedy picks. Tokens at -inf (banned)
 * are never candidates. After {@link #select}, {@link #weight} gives exp(logit - max) of every
 * candidate, for the draw. Not thread-safe: scratch arrays are reused between calls.
 */
final class Truncation {
    private int[] candidates = new int[0];
    private int[] heap = new int[0];
    private double[] heapKeys = new double[0]; // logits[heap[j]], kept beside the ids: no cache miss per comparison
    private double[] weights = new double[0]; // [vocab] f64, by token id, valid for the candidates
    private int count;
    private double maxLogit;

    int count() {
        return count;
    }

    /** The i-th candidate; most likely first when top-k or top-p was applied, by id otherwise. */
    int candidate(int i) {
        return candidates[i];
    }

    /** exp(logit - maxLogit) of the i-th candidate. */
    double weight(int i) {
        return weights[candidates[i]];
    }

    /** Selects from {@code logits[0, vocab)}; returns the number of candidates. */
    int select(double[] logits, int vocab, int topK, double topP, double minP) {
        if (heap.length < vocab) {
            heap = new int[vocab];
            heapKeys = new double[vocab];
            candidates = new int[vocab];
            weights = new double[vocab];
        }
        int finite = 0;
        maxLogit = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            if (logits[i] > Double.NEGATIVE_INFINITY) {
                finite++;
                maxLogit = Math.max(maxLogit, logits[i]);
            }
        }
        if (finite == 0) {
            throw new IllegalStateException("no token can be sampled: every logit is -inf (all banned?)");
        }
        if (topK > 0 && topK < finite) {
            count = selectTopK(logits, vocab, topK);
            if (topP < 1) {
                count = nucleusOfOrdered(topP);
            }
        } else if (topP < 1) {
            count = selectNucleus(logits, vocab, topP);
        } else {
            VectorMath.expShifted(logits, vocab, maxLogit, weights);
            count = 0;
            for (int i = 0; i < vocab; i++) {
                if (logits[i] > Double.NEGATIVE_INFINITY) {
                    candidates[count++] = i;
                }
            }
        }
        if (minP > 0) {
            applyMinP(logits, minP);
        }
        return count;
    }

    // Bounded heap with the worst of the best k on top; then popped worst-first into place.
    private int selectTopK(double[] logits, int vocab, int k) {
        int size = 0;
        for (int i = 0; i < vocab; i++) {
            if (!(logits[i] > Double.NEGATIVE_INFINITY)) {
                continue;
            }
            if (size < k) {
                siftUpWorst(size++, i, logits[i]);
            } else if (before(logits[i], i, heapKeys[0], heap[0])) {
                siftDown(0, size, true, i, logits[i]);
            }
        }
        for (int m = k - 1; m >= 0; m--) {
            int id = pop(m + 1, true);
            candidates[m] = id;
            weights[id] = Math.exp(logits[id] - maxLogit);
        }
        return k;
    }

    // top-p over the already ordered candidates (the top-k distribution, renormalized).
    private int nucleusOfOrdered(double topP) {
        double mass = 0;
        for (int m = 0; m < count; m++) {
            mass += weight(m);
        }
        double cumulative = 0;
        for (int m = 0; m < count; m++) {
            cumulative += weight(m);
            if (cumulative >= topP * mass) {
                return m + 1;
            }
        }
        return count;
    }

    private int selectNucleus(double[] logits, int vocab, double topP) {
        double mass = VectorMath.expShifted(logits, vocab, maxLogit, weights);
        double target = topP * mass;
        int size = narrowNucleus(logits, vocab, mass, target);
        for (int j = 0; j < size; j++) {
            heapKeys[j] = logits[heap[j]];
        }
        for (int i = size / 2 - 1; i >= 0; i--) {
            siftDown(i, size, false, heap[i], heapKeys[i]);
        }
        double cumulative = 0;
        int m = 0;
        while (m < size && cumulative < target) {
            int id = pop(size - m, false);
            candidates[m++] = id;
            cumulative += weights[id];
        }
        return m;
    }

    /**
     * Collects into heap[0, size) a rank prefix of the vocabulary that still weighs at least the
     * target. Each round drops the tokens lighter than excess / size, where excess is what the kept
     * set weighs beyond the target: they number at most size, so together they weigh less than the
     * excess. The first round treats the whole vocabulary as kept, with excess (1 - p) * Z.
     */
    private int narrowNucleus(double[] logits, int vocab, double mass, double target) {
        int size = 0;
        double floor = (mass - target) / vocab;
        double kept = 0;
        for (int i = 0; i < vocab; i++) {
            if (weights[i] >= floor && logits[i] > Double.NEGATIVE_INFINITY) {
                heap[size++] = i;
                kept += weights[i];
            }
        }
        for (int round = 0; round < 8; round++) {
            double next = (kept - target) / size;
            if (!(next > floor)) {
                break;
            }
            floor = next;
            int before = size;
            size = 0;
            kept = 0;
            for (int j = 0; j < before; j++) {
                int id = heap[j];
                if (weights[id] >= floor) {
                    heap[size++] = id;
                    kept += weights[id];
                }
            }
            if (size > before - before / 8) {
                break; // converging slowly: popping the rest is cheaper than more passes
            }
        }
        return size;
    }

    // min-p keeps p >= minP * pMax, i.e. logit >= maxLogit + ln(minP); the order of candidates is kept.
    private void applyMinP(double[] logits, double minP) {
        double threshold = maxLogit + Math.log(minP);
        int kept = 0;
        for (int j = 0; j < count; j++) {
            if (logits[candidates[j]] >= threshold) {
                candidates[kept++] = candidates[j];
            }
        }
        count = kept;
    }

    // Binary heap over (heap, heapKeys)[0, size): best (logit desc, id asc) on top, or the worst when worstOnTop.
    private int pop(int size, boolean worstOnTop) {
        int top = heap[0];
        siftDown(0, size - 1, worstOnTop, heap[size - 1], heapKeys[size - 1]);
        return top;
    }

    // Places (id, key) at hole i or below, moving the better-ranked child up while it ranks above.
    private void siftDown(int i, int size, boolean worstOnTop, int id, double key) {
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && above(heapKeys[child + 1], heap[child + 1], heapKeys[child], heap[child], worstOnTop)) {
                child++;
            }
            if (!above(heapKeys[child], heap[child], key, id, worstOnTop)) {
                break;
            }
            heap[i] = heap[child];
            heapKeys[i] = heapKeys[child];
            i = child;
        }
        heap[i] = id;
        heapKeys[i] = key;
    }

    private void siftUpWorst(int i, int id, double key) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!before(heapKeys[parent], heap[parent], key, id)) {
                break;
            }
            heap[i] = heap[parent];
            heapKeys[i] = heapKeys[parent];
            i = parent;
        }
        heap[i] = id;
        heapKeys[i] = key;
    }

    private static boolean above(double keyA, int a, double keyB, int b, boolean worstOnTop) {
        return worstOnTop ? before(keyB, b, keyA, a) : before(keyA, a, keyB, b);
    }

    /** Whether token a ranks before token b: higher logit, or the same logit and a lower id. */
    private static boolean before(double keyA, int a, double keyB, int b) {
        return keyA > keyB || (keyA == keyB && a < b);
    }
}
