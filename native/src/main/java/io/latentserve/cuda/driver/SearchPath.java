package io.latentserve.cuda.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The folders searched for CUDA libraries, in order. {@link #standard(Map)} builds the real list; tests
 * pass their own folders so they never depend on what this machine has installed.
 *
 * <p>Order and why: LD_LIBRARY_PATH first (what the user set up for this process), then the distribution
 * and container folders where the NVIDIA driver puts libcuda (the "driver's library path"), then the CUDA
 * toolkit, then the {@code nvidia/*}{@code /lib} folders of Python installations, which is where pip's
 * nvidia-cublas wheels (and so the GPU machines of this project) keep cuBLAS.
 */
public record SearchPath(List<Path> dirs, List<Path> pythonPrefixes) {

    /**
     * @param dirs           the folders, in order
     * @param pythonPrefixes the Python installations whose nvidia/*{@literal /}lib folders are among them
     *                       (named in messages, since only existing folders are listed in dirs)
     */
    public SearchPath {
        dirs = List.copyOf(dirs);
        pythonPrefixes = List.copyOf(pythonPrefixes);
    }

    public SearchPath(List<Path> dirs) {
        this(dirs, List.of());
    }

    public static SearchPath of(Path... dirs) {
        return new SearchPath(List.of(dirs));
    }

    /** The standard search folders for this process, given its environment. */
    public static SearchPath standard(Map<String, String> env) {
        Set<Path> dirs = new LinkedHashSet<>();
        for (String entry : split(env.get("LD_LIBRARY_PATH"))) {
            dirs.add(Path.of(entry));
        }
        boolean arm = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT).contains("aarch64");
        String triple = arm ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
        dirs.add(Path.of("/usr/lib", triple));
        dirs.add(Path.of("/lib", triple));
        dirs.add(Path.of("/usr/lib64"));
        dirs.add(Path.of("/usr/local/nvidia/lib64"));
        dirs.add(Path.of("/usr/local/nvidia/lib"));
        dirs.add(Path.of("/usr/lib/wsl/lib"));
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String home = env.get(var);
            if (home != null && !home.isBlank()) {
                dirs.add(Path.of(home, "lib64"));
            }
        }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/local/cuda/targets", arm ? "sbsa-linux" : "x86_64-linux", "lib"));
        List<Path> prefixes = pythonPrefixes(env);
        dirs.addAll(pythonNvidiaLibDirs(prefixes));
        return new SearchPath(new ArrayList<>(dirs), prefixes);
    }

    /**
     * Python installations that may hold nvidia wheels: the active virtualenv or conda env, the prefix of
     * every python3 on PATH (its bin folder's parent, which is sys.prefix for venvs and system Pythons
     * alike, found without starting Python), pyenv versions, the user site, then the usual system prefixes.
     */
    static List<Path> pythonPrefixes(Map<String, String> env) {
        Set<Path> prefixes = new LinkedHashSet<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String value = env.get(var);
            if (value != null && !value.isBlank()) {
                prefixes.add(Path.of(value));
            }
        }
        for (String entry : split(env.get("PATH"))) {
            Path python = Path.of(entry, "python3");
            if (Files.isRegularFile(python) && Path.of(entry).getParent() != null) {
                prefixes.add(Path.of(entry).getParent());
                try {
                    Path real = python.toRealPath();
                    if (real.getParent() != null && real.getParent().getParent() != null) {
                        prefixes.add(real.getParent().getParent());
                    }
                } catch (IOException ignored) {
                    // a dangling link: the PATH entry's own prefix is still worth a look
                }
            }
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home", ""));
        String pyenv = env.getOrDefault("PYENV_ROOT", home.isEmpty() ? "" : home + "/.pyenv");
        if (!pyenv.isEmpty()) {
            prefixes.addAll(children(Path.of(pyenv, "versions"), "", false));
        }
        if (!home.isEmpty()) {
            prefixes.add(Path.of(home, ".local"));
        }
        prefixes.add(Path.of("/usr/local"));
        prefixes.add(Path.of("/usr"));
        prefixes.add(Path.of("/opt/conda"));
        return new ArrayList<>(prefixes);
    }

    /**
     * The existing {@code <prefix>/lib/python3*}{@code /(site|dist)-packages/nvidia/*}{@code /lib} folders,
     * prefix by prefix, each level in name order so the result does not depend on directory listing order.
     */
    public static List<Path> pythonNvidiaLibDirs(List<Path> prefixes) {
        List<Path> out = new ArrayList<>();
        for (Path prefix : prefixes) {
            for (Path python : children(prefix.resolve("lib"), "python3", false)) {
                for (String packages : List.of("site-packages", "dist-packages")) {
                    for (Path pkg : children(python.resolve(packages).resolve("nvidia"), "", false)) {
                        Path lib = pkg.resolve("lib");
                        if (Files.isDirectory(lib)) {
                            out.add(lib);
                        }
                    }
                }
            }
        }
        return out;
    }

    private static List<Path> children(Path dir, String namePrefix, boolean files) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().startsWith(namePrefix))
                    .filter(p -> files ? Files.isRegularFile(p) : Files.isDirectory(p))
                    .sorted()
                    .toList();
        } catch (IOException | SecurityException e) {
            return List.of();
        }
    }

    private static List<String> split(String pathList) {
        if (pathList == null || pathList.isBlank()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String part : pathList.split(":")) {
            if (!part.isBlank()) {
                out.add(part.strip());
            }
        }
        return out;
    }
}
