package io.latentserve.cuda.kernels;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When the build found nvcc, the fatbin is a resource of the jar and holds every kernel; else it is absent. */
class FatbinResourceTest {

    @Test
    void fatbinIsPackagedWhenNvccWasAvailable() throws IOException {
        Properties marker = new Properties();
        try (InputStream in = KernelModule.class.getResourceAsStream("/io/latentserve/cuda/latentserve_kernels.properties")) {
            assertNotNull(in, "cuda-kernels/build.sh did not run in this build (no latentserve_kernels.properties)");
            marker.load(in);
        }
        String nvcc = marker.getProperty("nvcc", "absent");
        var fatbin = KernelModule.fatbin();
        if (nvcc.equals("absent") || nvcc.equals("skipped")) {
            System.err.println("built without CUDA kernels (nvcc " + nvcc + "): checking that no stale fatbin is packaged");
            assertTrue(fatbin.isEmpty(), "a fatbin is packaged although nvcc was " + nvcc);
            return;
        }
        assertTrue(fatbin.isPresent(), "nvcc was found (" + nvcc + ") but the jar has no fatbin");
        byte[] image = fatbin.get();
        assertEquals(KernelModule.FATBIN_MAGIC, ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).getInt(0),
                "fatbin magic");
        String text = new String(image, StandardCharsets.ISO_8859_1);
        for (String kernel : KernelParams.KERNELS) {
            assertTrue(text.contains(".text." + kernel), "fatbin lacks machine code for " + kernel);
        }
        System.out.println("fatbin: " + image.length + " bytes, " + KernelParams.KERNELS.size() + " kernels, built by " + nvcc);
    }
}
