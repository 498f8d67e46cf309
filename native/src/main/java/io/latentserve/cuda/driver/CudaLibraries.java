package io.latentserve.cuda.driver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Finds the CUDA driver (libcuda), cuBLAS and cuBLASLt on this machine.
 *
 * <p>Order: an explicit path (the {@code -Dlatentserve.cuda.lib} / {@code -Dlatentserve.cublas.lib} /
 * {@code -Dlatentserve.cublaslt.lib} option), then the environment variable
 * ({@code LATENTSERVE_LIBCUDA} / {@code LATENTSERVE_LIBCUBLAS} / {@code LATENTSERVE_LIBCUBLASLT}), then the
 * folders of {@link SearchPath#standard(Map)}. An explicit path or variable that names nothing is an error,
 * not a reason to search further: quietly loading another copy than the one asked for would hide the
 * mistake. Either may name the file itself or the folder holding it.
 *
 * <p>Within a folder the file names are tried most specific first (libcublas.so.13 before .12 before the
 * unversioned development link); the first folder with any of them wins, as with the dynamic linker.
 * Folders named {@code stubs} are skipped for the driver: the toolkit's stub libcuda only answers
 * CUDA_ERROR_STUB_LIBRARY and would hide the real driver further down the path.
 */
public final class CudaLibraries {
    public static final String CUDA = "cuda";
    public static final String CUBLAS = "cublas";
    public static final String CUBLAS_LT = "cublasLt";

    private CudaLibraries() {
    }

    /** What is known about each library: its file names, how a user names it, and what to do when it is missing. */
    enum Library {
        DRIVER(CUDA, "the CUDA driver library", "latentserve.cuda.lib", "LATENTSERVE_LIBCUDA",
                List.of("libcuda.so.1", "libcuda.so"),
                "Install the NVIDIA driver, or give its path with -Dlatentserve.cuda.lib=... or LATENTSERVE_LIBCUDA."),
        BLAS(CUBLAS, "cuBLAS", "latentserve.cublas.lib", "LATENTSERVE_LIBCUBLAS",
                List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so"),
                "Install the CUDA toolkit or the nvidia-cublas Python wheel, or give its path with"
                        + " -Dlatentserve.cublas.lib=... or LATENTSERVE_LIBCUBLAS."),
        BLAS_LT(CUBLAS_LT, "cuBLASLt, which cuBLAS needs", "latentserve.cublaslt.lib", "LATENTSERVE_LIBCUBLASLT",
                List.of("libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"),
                "It ships next to libcublas; give its path with -Dlatentserve.cublaslt.lib=... or LATENTSERVE_LIBCUBLASLT.");

        private final String name;
        private final String description;
        private final String property;
        private final String envVar;
        private final List<String> fileNames;
        private final String hint;

        Library(String name, String description, String property, String envVar, List<String> fileNames, String hint) {
            this.name = name;
            this.description = description;
            this.property = property;
            this.envVar = envVar;
            this.fileNames = fileNames;
            this.hint = hint;
        }

        static Library named(String name) {
            for (Library lib : values()) {
                if (lib.name.equals(name)) {
                    return lib;
                }
            }
            throw new IllegalArgumentException("unknown CUDA library '" + name + "': use cuda, cublas or cublasLt");
        }

        String description() {
            return description;
        }

        String hint() {
            return hint;
        }
    }

    /** The file names tried for a library, most preferred first. */
    public static List<String> fileNames(String name) {
        return Library.named(name).fileNames;
    }

    /** The system property that names a library's path explicitly (e.g. latentserve.cuda.lib). */
    public static String propertyName(String name) {
        return Library.named(name).property;
    }

    /** The environment variable that names a library's path (e.g. LATENTSERVE_LIBCUDA). */
    public static String envVarName(String name) {
        return Library.named(name).envVar;
    }

    /** The explicit path given for a library with its -D option, if any. */
    public static Optional<Path> explicitPath(String name) {
        String value = System.getProperty(propertyName(name));
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(Path.of(value.strip()));
    }

    /** Looks a library up the way the server does: its -D option, its variable, then the standard folders. */
    public static LibraryLookup find(String name) {
        return find(name, System.getenv(), explicitPath(name));
    }

    /** Looks a library up: explicit path, then its environment variable, then {@link SearchPath#standard}. */
    public static LibraryLookup find(String name, Map<String, String> env, Optional<Path> explicit) {
        Library lib = Library.named(name);
        Optional<LibraryLookup> named = named(lib, env, explicit);
        return named.orElseGet(() -> search(lib, SearchPath.standard(env)));
    }

    /** As {@link #find(String, Map, Optional)}, searching the given folders instead of the standard ones. */
    public static LibraryLookup find(String name, Map<String, String> env, Optional<Path> explicit, SearchPath path) {
        Library lib = Library.named(name);
        return named(lib, env, explicit).orElseGet(() -> search(lib, path));
    }

    /**
     * cuBLASLt matching a found cuBLAS: first the file with the same version suffix in the same folder
     * (libcublas.so.12 pairs with libcublasLt.so.12; mixing versions fails at load time), then the usual lookup.
     */
    public static LibraryLookup findCublasLtFor(Path libcublas, Map<String, String> env, Optional<Path> explicit) {
        Library lib = Library.BLAS_LT;
        Optional<LibraryLookup> named = named(lib, env, explicit);
        if (named.isPresent()) {
            return named.get();
        }
        String file = libcublas.getFileName().toString();
        if (file.startsWith("libcublas.so") && libcublas.getParent() != null) {
            Path sibling = libcublas.resolveSibling("libcublasLt.so" + file.substring("libcublas.so".length()));
            if (Files.isRegularFile(sibling)) {
                return new LibraryLookup(lib.name, lib.fileNames, Optional.of(sibling), "next to " + libcublas,
                        List.of(libcublas.getParent()), List.of());
            }
        }
        return find(CUBLAS_LT, env, Optional.empty());
    }

    /**
     * Throws {@link CudaUnavailableException} unless the file starts like a shared library. Checked before
     * dlopen so a wrong path (a text file, a truncated download) gets a plain message, and the JVM does not
     * treat the file as a library that might need an executable stack.
     */
    public static void requireSharedLibrary(Path file, String what) {
        byte[] head = new byte[4];
        int read;
        try (InputStream in = Files.newInputStream(file)) {
            read = in.readNBytes(head, 0, 4);
        } catch (IOException e) {
            throw new CudaUnavailableException("could not load " + what + " " + file + ": " + e.getMessage(), e);
        }
        if (read < 4 || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F') {
            throw new CudaUnavailableException("could not load " + what + " " + file + ": not a shared library"
                    + " (no ELF header)");
        }
    }

    private static Optional<LibraryLookup> named(Library lib, Map<String, String> env, Optional<Path> explicit) {
        if (explicit.isPresent()) {
            return Optional.of(at(lib, explicit.get(), "-D" + lib.property + "=" + explicit.get()));
        }
        String fromEnv = env.get(lib.envVar);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Optional.of(at(lib, Path.of(fromEnv.strip()), lib.envVar + "=" + fromEnv.strip()));
        }
        return Optional.empty();
    }

    /** A path given by the user: the file itself, or a folder to look in. */
    private static LibraryLookup at(Library lib, Path given, String origin) {
        if (Files.isRegularFile(given)) {
            return new LibraryLookup(lib.name, lib.fileNames, Optional.of(given), origin, List.of(), List.of());
        }
        if (Files.isDirectory(given)) {
            for (String file : lib.fileNames) {
                Path candidate = given.resolve(file);
                if (Files.isRegularFile(candidate)) {
                    return new LibraryLookup(lib.name, lib.fileNames, Optional.of(candidate), origin,
                            List.of(given), List.of());
                }
            }
            return new LibraryLookup(lib.name, lib.fileNames, Optional.empty(), origin, List.of(given), List.of());
        }
        return new LibraryLookup(lib.name, lib.fileNames, Optional.empty(), origin, List.of(),
                List.of(given + " does not exist"));
    }

    private static LibraryLookup search(Library lib, SearchPath path) {
        List<Path> searched = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Path dir : path.dirs()) {
            if (lib == Library.DRIVER && dir.getFileName() != null && dir.getFileName().toString().equals("stubs")) {
                notes.add("skipped " + dir + " (the toolkit's stub libcuda cannot run anything)");
                continue;
            }
            searched.add(dir);
            for (String file : lib.fileNames) {
                Path candidate = dir.resolve(file);
                if (Files.isRegularFile(candidate)) {
                    return new LibraryLookup(lib.name, lib.fileNames, Optional.of(candidate), "search", searched, notes);
                }
            }
        }
        if (lib != Library.DRIVER && !path.pythonPrefixes().isEmpty()) {
            notes.add("Python installations checked for nvidia/*/lib folders: " + path.pythonPrefixes().stream()
                    .map(Path::toString).collect(Collectors.joining(", ")));
        }
        return new LibraryLookup(lib.name, lib.fileNames, Optional.empty(), "search", searched, notes);
    }
}
