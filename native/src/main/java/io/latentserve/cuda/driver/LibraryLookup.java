package io.latentserve.cuda.driver;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a CUDA library was found, or why it was not: the file names tried, the folders looked in (in
 * order) and anything skipped on the way. {@link #require()} turns a miss into a message a user can act on.
 *
 * @param library   "cuda", "cublas" or "cublasLt"
 * @param fileNames the file names tried in each folder, most preferred first
 * @param path      the library file, when found
 * @param origin    how it was found: the option or variable that named it, or "search"
 * @param searched  the folders looked in, in order
 * @param notes     folders skipped and why (e.g. a toolkit stub), and a bad explicit path
 */
public record LibraryLookup(String library, List<String> fileNames, Optional<Path> path, String origin,
                            List<Path> searched, List<String> notes) {

    public LibraryLookup {
        Objects.requireNonNull(library);
        fileNames = List.copyOf(fileNames);
        Objects.requireNonNull(path);
        Objects.requireNonNull(origin);
        searched = List.copyOf(searched);
        notes = List.copyOf(notes);
    }

    public boolean found() {
        return path.isPresent();
    }

    /** The library file, or a {@link CudaUnavailableException} saying where it looked. */
    public Path require() {
        return path.orElseThrow(() -> new CudaUnavailableException(describeFailure()));
    }

    /** A one-paragraph explanation of the miss (empty-handed search or a bad explicit path). */
    public String describeFailure() {
        if (found()) {
            return library + " found at " + path.get() + " (" + origin + ")";
        }
        CudaLibraries.Library lib = CudaLibraries.Library.named(library);
        StringBuilder sb = new StringBuilder();
        sb.append(String.join(" / ", fileNames)).append(" (").append(lib.description()).append(") not found");
        if (!"search".equals(origin)) {
            sb.append(" at the path given by ").append(origin);
        }
        if (!searched.isEmpty()) {
            sb.append("; looked in: ");
            for (int i = 0; i < searched.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(searched.get(i));
            }
        }
        for (String note : notes) {
            sb.append("; ").append(note);
        }
        sb.append(". ").append(lib.hint());
        return sb.toString();
    }
}
