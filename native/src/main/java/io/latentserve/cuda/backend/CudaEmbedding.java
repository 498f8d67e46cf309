package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.CopyRowsParams;
import io.latentserve.cuda.kernels.EmbeddingParams;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.model.backend.PendingRows;

import java.util.Arrays;

/**
 * The embedding lookup (ls_embedding), with ids that may be markers naming rows of a pass whose tokens were
 * sampled on the device and are not on the host yet (async scheduling: {@link PendingRows}, {@link DeferredTokens}).
 */
final class CudaEmbedding {
    private final Kernels kernels;
    private final StepMemory memory;
    private final DeferredTokens deferred;

    CudaEmbedding(Kernels kernels, StepMemory memory, DeferredTokens deferred) {
        this.kernels = kernels;
        this.memory = memory;
        this.deferred = deferred;
    }

    /**
     * Markers naming the latest launched pass's tokens are gathered on the device (ls_copy_rows moves the
     * int32 tokens as 32-bit words, no arithmetic, into the uploaded ids) before the lookup: the host never
     * waits for them. Markers naming an older pass are resolved on the host (awaiting it).
     */
    void lookup(CudaWeight t, int[] ids, PendingRows previous, CudaActivation o) {
        boolean gather = PendingRows.hasMarkers(ids);
        if (gather && !deferred.isLatest(previous)) {
            ids = PendingRows.resolve(ids, previous);
            gather = false;
        }
        if (o.rows() != ids.length || o.cols() != t.cols()) {
            throw new IllegalArgumentException("embedding output must be [" + ids.length + ", " + t.cols() + "]");
        }
        int[] known = ids.clone();               // [T] the ids, a placeholder 0 where a marker is
        int markers = 0;
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (gather && PendingRows.isMarker(id)) {
                known[i] = 0;
                markers++;
            } else if (id < 0 || id >= t.rows()) {
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary (0.." + (t.rows() - 1) + ")");
            }
        }
        try (StepMemory.Scratch s = memory.scratch()) {
            long idsOnDevice = s.ints(known);
            if (markers > 0) {
                gatherMarkers(s, ids, markers, (DeferredTokens.Pass) previous, idsOnDevice);
            }
            kernels.launch(new EmbeddingParams(t.address(), idsOnDevice, o.address(), ids.length, t.cols(), t.dtype(),
                    o.stride()), Grid.of(ids.length, KernelLimits.THREADS));
        }
    }

    /** ids[t] = the previous pass's token of the row marker ids[t] names, on the device. */
    private void gatherMarkers(StepMemory.Scratch s, int[] ids, int markers, DeferredTokens.Pass previous,
                               long idsOnDevice) {
        boolean[] sampled = new boolean[previous.rows()];
        Arrays.fill(sampled, true);                 // a launched pass samples every row on the device
        PendingRows.checkMarkers(ids, sampled);
        int[] rows = new int[markers];
        int[] at = new int[markers];
        for (int i = 0, m = 0; i < ids.length; i++) {
            if (PendingRows.isMarker(ids[i])) {
                rows[m] = PendingRows.markerRow(ids[i]);
                at[m++] = i;
            }
        }
        kernels.launch(new CopyRowsParams(previous.deviceTokens(), s.ints(rows), idsOnDevice, s.ints(at), markers, 1,
                1, 1), Kernels.rowsByCols(markers, 1));
    }
}
