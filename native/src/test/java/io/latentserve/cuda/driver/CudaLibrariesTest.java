package io.latentserve.cuda.driver;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Library discovery with fake library files in temporary folders; nothing here is ever loaded. */
class CudaLibrariesTest {
    @TempDir
    Path tmp;

    private Path fake(Path dir, String file) throws IOException {
        Files.createDirectories(dir);
        return Files.writeString(dir.resolve(file), "not a real library");
    }

    @Test
    void firstFolderHoldingTheLibraryWins() throws IOException {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        Path c = tmp.resolve("c");
        Files.createDirectories(a);
        Path inB = fake(b, "libcuda.so.1");
        fake(c, "libcuda.so.1");

        LibraryLookup found = CudaLibraries.find("cuda", Map.of(), Optional.empty(), SearchPath.of(a, b, c));

        assertEquals(Optional.of(inB), found.path());
        assertEquals("search", found.origin());
        assertEquals(List.of(a, b), found.searched(), "stops at the first folder with the library");
        assertEquals(inB, found.require());
    }

    @Test
    void versionedNamesArePreferredWithinAFolder() throws IOException {
        Path dir = tmp.resolve("lib");
        fake(dir, "libcuda.so");
        Path so1 = fake(dir, "libcuda.so.1");
        assertEquals(Optional.of(so1), CudaLibraries.find("cuda", Map.of(), Optional.empty(), SearchPath.of(dir)).path());

        fake(dir, "libcublas.so");
        fake(dir, "libcublas.so.12");
        Path so13 = fake(dir, "libcublas.so.13");
        assertEquals(Optional.of(so13), CudaLibraries.find("cublas", Map.of(), Optional.empty(), SearchPath.of(dir)).path());
    }

    @Test
    void anEarlierFolderBeatsANewerVersionLater() throws IOException {
        Path early = tmp.resolve("early");
        Path late = tmp.resolve("late");
        Path twelve = fake(early, "libcublas.so.12");
        fake(late, "libcublas.so.13");
        assertEquals(Optional.of(twelve),
                CudaLibraries.find("cublas", Map.of(), Optional.empty(), SearchPath.of(early, late)).path());
    }

    @Test
    void explicitPathComesBeforeTheVariableAndTheSearch() throws IOException {
        Path explicit = fake(tmp.resolve("explicit"), "libcuda.so.1");
        Path viaEnv = fake(tmp.resolve("env"), "libcuda.so.1");
        Path searched = tmp.resolve("searched");
        fake(searched, "libcuda.so.1");
        Map<String, String> env = Map.of("LATENTSERVE_LIBCUDA", viaEnv.toString());

        LibraryLookup withExplicit = CudaLibraries.find("cuda", env, Optional.of(explicit), SearchPath.of(searched));
        assertEquals(Optional.of(explicit), withExplicit.path());
        assertTrue(withExplicit.origin().startsWith("-Dlatentserve.cuda.lib="), withExplicit.origin());

        LibraryLookup withEnv = CudaLibraries.find("cuda", env, Optional.empty(), SearchPath.of(searched));
        assertEquals(Optional.of(viaEnv), withEnv.path());
        assertTrue(withEnv.origin().startsWith("LATENTSERVE_LIBCUDA="), withEnv.origin());
    }

    @Test
    void anExplicitFolderIsSearchedForTheFileNames() throws IOException {
        Path dir = tmp.resolve("nvidia/cublas/lib");
        Path lib = fake(dir, "libcublas.so.12");
        LibraryLookup found = CudaLibraries.find("cublas", Map.of("LATENTSERVE_LIBCUBLAS", dir.toString()),
                Optional.empty(), SearchPath.of());
        assertEquals(Optional.of(lib), found.path());
    }

    @Test
    void aBadExplicitPathIsAnErrorNotAReasonToSearchOn() throws IOException {
        Path searched = tmp.resolve("searched");
        fake(searched, "libcuda.so.1");
        Path missing = tmp.resolve("no/such/libcuda.so.1");

        LibraryLookup lookup = CudaLibraries.find("cuda", Map.of(), Optional.of(missing), SearchPath.of(searched));

        assertFalse(lookup.found());
        String message = assertThrows(CudaUnavailableException.class, lookup::require).getMessage();
        assertTrue(message.contains("-Dlatentserve.cuda.lib=" + missing), message);
        assertTrue(message.contains(missing + " does not exist"), message);

        LibraryLookup badEnv = CudaLibraries.find("cuda", Map.of("LATENTSERVE_LIBCUDA", tmp.toString()),
                Optional.empty(), SearchPath.of(searched));
        assertFalse(badEnv.found(), "a folder without the library, named by the variable");
        assertTrue(badEnv.describeFailure().contains("LATENTSERVE_LIBCUDA=" + tmp), badEnv.describeFailure());
    }

    @Test
    void aMissMessageListsEveryFolderInOrderAndSaysWhatToDo() {
        Path a = tmp.resolve("first");
        Path b = tmp.resolve("second");

        LibraryLookup lookup = CudaLibraries.find("cuda", Map.of(), Optional.empty(), SearchPath.of(a, b));

        assertFalse(lookup.found());
        assertEquals(List.of(a, b), lookup.searched());
        String message = assertThrows(CudaUnavailableException.class, lookup::require).getMessage();
        assertTrue(message.startsWith("libcuda.so.1 / libcuda.so (the CUDA driver library) not found; looked in: "
                + a + ", " + b), message);
        assertTrue(message.contains("-Dlatentserve.cuda.lib"), message);
        assertTrue(message.contains("LATENTSERVE_LIBCUDA"), message);

        String cublas = CudaLibraries.find("cublas", Map.of(), Optional.empty(), SearchPath.of(a)).describeFailure();
        assertTrue(cublas.startsWith("libcublas.so.13 / libcublas.so.12 / libcublas.so (cuBLAS) not found; looked in: "
                + a), cublas);
        assertTrue(cublas.contains("nvidia-cublas") && cublas.contains("LATENTSERVE_LIBCUBLAS"), cublas);
    }

    @Test
    void theToolkitStubIsSkippedForTheDriver() throws IOException {
        Path stubs = tmp.resolve("cuda/lib64/stubs");
        fake(stubs, "libcuda.so");
        Path real = fake(tmp.resolve("driver"), "libcuda.so.1");

        LibraryLookup lookup = CudaLibraries.find("cuda", Map.of(), Optional.empty(),
                SearchPath.of(stubs, real.getParent()));

        assertEquals(Optional.of(real), lookup.path());
        assertEquals(List.of(real.getParent()), lookup.searched());

        LibraryLookup onlyStub = CudaLibraries.find("cuda", Map.of(), Optional.empty(), SearchPath.of(stubs));
        assertTrue(onlyStub.describeFailure().contains("skipped " + stubs), onlyStub.describeFailure());
    }

    @Test
    void pythonNvidiaFoldersAreFoundUnderEachPrefixInOrder() throws IOException {
        Path venv = tmp.resolve("venv");
        Path cublasDir = venv.resolve("lib/python3.12/site-packages/nvidia/cublas/lib");
        Path runtimeDir = venv.resolve("lib/python3.12/site-packages/nvidia/cuda_runtime/lib");
        Path debian = tmp.resolve("usr-local").resolve("lib/python3.10/dist-packages/nvidia/cublas/lib");
        Files.createDirectories(runtimeDir);
        Path lib = fake(cublasDir, "libcublas.so.12");
        fake(cublasDir, "libcublasLt.so.12");
        Files.createDirectories(debian);
        Files.createDirectories(venv.resolve("lib/python3.12/site-packages/nvidia/no_lib_folder"));

        List<Path> dirs = SearchPath.pythonNvidiaLibDirs(List.of(venv, tmp.resolve("usr-local"), tmp.resolve("absent")));

        assertEquals(List.of(cublasDir, runtimeDir, debian), dirs);
        LibraryLookup found = CudaLibraries.find("cublas", Map.of(), Optional.empty(), new SearchPath(dirs));
        assertEquals(Optional.of(lib), found.path());
    }

    @Test
    void theStandardPathPutsLdLibraryPathFirstThenDriverThenToolkitThenPython() throws IOException {
        Path venv = tmp.resolve("venv");
        Path cublasDir = venv.resolve("lib/python3.11/site-packages/nvidia/cublas/lib");
        Files.createDirectories(cublasDir);
        Path bin = Files.createDirectories(venv.resolve("bin"));
        Files.writeString(bin.resolve("python3"), "#!/bin/sh\n");
        Map<String, String> env = Map.of("LD_LIBRARY_PATH", "/opt/x:/opt/y", "PATH", bin.toString(),
                "HOME", tmp.resolve("home").toString());

        List<Path> dirs = SearchPath.standard(env).dirs();

        assertEquals(Path.of("/opt/x"), dirs.get(0));
        assertEquals(Path.of("/opt/y"), dirs.get(1));
        boolean arm = System.getProperty("os.arch").contains("aarch64");
        int driver = dirs.indexOf(Path.of(arm ? "/usr/lib/aarch64-linux-gnu" : "/usr/lib/x86_64-linux-gnu"));
        int nvidia = dirs.indexOf(Path.of("/usr/local/nvidia/lib64"));
        int toolkit = dirs.indexOf(Path.of("/usr/local/cuda/lib64"));
        int targets = dirs.indexOf(Path.of(arm ? "/usr/local/cuda/targets/sbsa-linux/lib"
                : "/usr/local/cuda/targets/x86_64-linux/lib"));
        int python = dirs.indexOf(cublasDir);
        assertTrue(driver > 1 && nvidia > driver && toolkit > nvidia && targets > toolkit && python > targets,
                "order: " + dirs);
        assertTrue(SearchPath.pythonPrefixes(env).contains(venv), "the prefix of python3 on PATH");
    }

    @Test
    void cublasLtIsTakenFromBesideCublasWithTheSameVersion() throws IOException {
        Path dir = tmp.resolve("nvidia/cublas/lib");
        Path cublas = fake(dir, "libcublas.so.12");
        Path lt = fake(dir, "libcublasLt.so.12");
        fake(dir, "libcublasLt.so.13");

        LibraryLookup found = CudaLibraries.findCublasLtFor(cublas, Map.of(), Optional.empty());

        assertEquals(Optional.of(lt), found.path());
        assertTrue(found.origin().contains(cublas.toString()), found.origin());
    }

    @Test
    void unknownLibraryNamesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaLibraries.find("cudnn", Map.of(), Optional.empty(), SearchPath.of()));
        assertTrue(e.getMessage().contains("cudnn"), e.getMessage());
    }

    @Test
    void optionAndVariableNames() {
        assertEquals("latentserve.cuda.lib", CudaLibraries.propertyName("cuda"));
        assertEquals("latentserve.cublas.lib", CudaLibraries.propertyName("cublas"));
        assertEquals("LATENTSERVE_LIBCUDA", CudaLibraries.envVarName("cuda"));
        assertEquals("LATENTSERVE_LIBCUBLAS", CudaLibraries.envVarName("cublas"));
        assertEquals(List.of("libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"), CudaLibraries.fileNames("cublasLt"));
    }
}
