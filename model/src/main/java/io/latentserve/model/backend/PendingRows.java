package io.latentserve.model.backend;

/**
 * The outcome of a sampled forward pass that may still be running ({@link Backend#launchSampleRows}):
 * {@link #await()} blocks until the rows' tokens (and host logits) are on the host. A later pass may name
 * the tokens this pass sampled before they reach the host: a token id {@link #marker(int) marker(r)} in its
 * batch means "the token this pass sampled for its logit row r", resolved by the backend (on the device by
 * a backend that samples there, from {@link #await()} otherwise; see {@link #resolve}).
 */
public interface PendingRows {

    /** Blocks until the pass is done; the same result on every call. */
    SampledRows await();

    /** A pass that is already done. */
    static PendingRows completed(SampledRows rows) {
        java.util.Objects.requireNonNull(rows, "rows");
        return () -> rows;
    }

    /**
     * The input id that stands for the token the previous launched pass sampled for its logit row r:
     * -1 - r (token ids are never negative, so markers cannot be mistaken for tokens).
     */
    static int marker(int row) {
        if (row < 0) {
            throw new IllegalArgumentException("logit row " + row + " cannot be named by a marker");
        }
        return -1 - row;
    }

    static boolean isMarker(int id) {
        return id < 0;
    }

    /** The logit row a marker names. */
    static int markerRow(int id) {
        if (!isMarker(id)) {
            throw new IllegalArgumentException("token id " + id + " is not a marker");
        }
        return -1 - id;
    }

    static boolean hasMarkers(int[] ids) {
        for (int id : ids) {
            if (isMarker(id)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Checks that every marker in ids names a row the previous pass sampled on the device (the host knows
     * which rows it asked the backend to sample: sampledOnDevice[r]), before anything is launched.
     *
     * @throws IllegalArgumentException for a marker with no previous pass or naming a row it did not sample
     */
    static void checkMarkers(int[] ids, boolean[] sampledOnDevice) {
        for (int t = 0; t < ids.length; t++) {
            if (!isMarker(ids[t])) {
                continue;
            }
            int row = markerRow(ids[t]);
            if (sampledOnDevice == null) {
                throw new IllegalArgumentException("input " + t + " names logit row " + row
                        + " of a previous pass, but no sampled pass was launched before it");
            }
            if (row >= sampledOnDevice.length || !sampledOnDevice[row]) {
                throw new IllegalArgumentException("input " + t + " names logit row " + row + " of the previous pass,"
                        + " which did not sample that row on the device (it had " + sampledOnDevice.length + " rows)");
            }
        }
    }

    /**
     * The rows with every {@link LogitEdits#pendingRow} resolved by the previous pass's token, taken from its
     * result on the host (awaiting it): the resolution of a backend that does not sample on the device.
     */
    static RowSampling[] resolveEdits(RowSampling[] sampling, PendingRows previous) {
        RowSampling[] out = sampling;
        for (int r = 0; r < sampling.length; r++) {
            if (sampling[r] == null || sampling[r].edits().pendingRow() < 0) {
                continue;
            }
            int row = sampling[r].edits().pendingRow();
            SampledRows rows = previous == null ? null : previous.await();
            if (rows == null || row >= rows.rows() || !rows.sampled(row)) {
                throw new IllegalArgumentException("logit row " + r + "'s edits name row " + row
                        + " of a previous pass that did not sample it");
            }
            out = out == sampling ? sampling.clone() : out;
            out[r] = sampling[r].withEdits(sampling[r].edits().resolved(rows.tokens()[row]));
        }
        return out;
    }

    /**
     * The ids with every marker replaced by the previous pass's token, taken from its result on the host
     * (awaiting it): the resolution of a backend that does not sample on the device.
     */
    static int[] resolve(int[] ids, PendingRows previous) {
        if (!hasMarkers(ids)) {
            return ids;
        }
        SampledRows rows = previous == null ? null : previous.await();
        boolean[] sampled = null;
        if (rows != null) {
            sampled = new boolean[rows.rows()];
            for (int r = 0; r < sampled.length; r++) {
                sampled[r] = rows.sampled(r);
            }
        }
        checkMarkers(ids, sampled);
        int[] out = ids.clone();
        for (int t = 0; t < out.length; t++) {
            if (isMarker(out[t])) {
                out[t] = rows.tokens()[markerRow(out[t])];
            }
        }
        return out;
    }
}
