package io.latentserve.model.graph;

/** Reports weight loading as it goes (tensors checked and handed to the backend, bytes so far). */
@FunctionalInterface
public interface LoadProgress {
    LoadProgress NONE = (done, total, doneBytes, totalBytes) -> { };

    void update(int tensorsDone, int tensorsTotal, long bytesDone, long bytesTotal);

    /** A one-line progress bar on a stream, redrawn in place at most every 2% (and at the end). */
    static LoadProgress bar(java.io.PrintStream out, String label) {
        return new LoadProgress() {
            private int lastPercent = -1;
            private boolean finished;

            @Override
            public void update(int done, int total, long doneBytes, long totalBytes) {
                if (finished) {
                    return; // the final line is drawn once, even when loading reports completion twice
                }
                finished = done == total;
                int percent = totalBytes == 0 ? 100 : (int) (100 * doneBytes / totalBytes);
                if (done != total && percent < lastPercent + 2) {
                    return;
                }
                lastPercent = percent;
                int filled = percent * 30 / 100;
                out.printf("\r%s [%s%s] %3d%%  %d/%d tensors, %.2f/%.2f GB", label, "#".repeat(filled),
                        " ".repeat(30 - filled), percent, done, total, doneBytes / 1e9, totalBytes / 1e9);
                if (done == total) {
                    out.println();
                }
                out.flush();
            }
        };
    }
}
