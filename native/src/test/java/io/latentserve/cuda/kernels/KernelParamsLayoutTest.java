package io.latentserve.cuda.kernels;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every Java parameter layout against latentserve_params.h: names, types, offsets, sizes; and the shared limits. */
class KernelParamsLayoutTest {
    private static ParamsHeader header;

    @BeforeAll
    static void parse() throws IOException {
        header = ParamsHeader.parse(ParamsHeader.locate());
    }

    @Test
    void everyStructOfTheHeaderHasAJavaLayoutAndViceVersa() {
        List<String> java = KernelParams.LAYOUTS.stream().map(l -> l.name().orElseThrow()).sorted().toList();
        List<String> c = header.structs().keySet().stream().sorted().toList();
        assertEquals(c, java);
        // one kernel per struct, plus ls_mla_decode_tma on ls_mla_decode_tc's struct
        assertEquals(KernelParams.LAYOUTS.size() + 1, KernelParams.KERNELS.size());
        assertEquals(KernelParams.KERNELS.size(), KernelParams.KERNELS.stream().distinct().count(), "no kernel twice");
    }

    @Test
    void javaLayoutsMatchTheCStructs() {
        for (StructLayout layout : KernelParams.LAYOUTS) {
            String name = layout.name().orElseThrow();
            ParamsHeader.Struct c = header.structs().get(name);
            assertEquals(c.size(), layout.byteSize(), name + " size");
            List<MemoryLayout> members = layout.memberLayouts();
            assertEquals(c.fields().size(), members.size(), name + " member count (padding included)");
            long offset = 0;
            for (int i = 0; i < members.size(); i++) {
                MemoryLayout m = members.get(i);
                ParamsHeader.Field f = c.fields().get(i);
                String where = name + "." + f.name();
                assertEquals(f.name(), m.name().orElseThrow(), name + " member " + i);
                assertEquals(f.offset(), offset, where + " offset");
                assertEquals(f.size(), m.byteSize(), where + " size");
                Class<?> carrier = ((ValueLayout) m).carrier();
                Class<?> expected = switch (f.type()) {
                    case "ls_ptr" -> long.class;
                    case "int" -> int.class;
                    default -> float.class;
                };
                assertEquals(expected, carrier, where + " type");
                offset += m.byteSize();
            }
        }
    }

    @Test
    void headerParseAgreesWithTheCCompiler() throws IOException {
        String prop = System.getProperty("latentserve.kernels.layoutTable", "target/latentserve_params.layout");
        Path table = Path.of(prop);
        if (!Files.isRegularFile(table)) {
            System.err.println("SKIPPED check against the C compiler: no " + table + " (build.sh found no cc)");
            return;
        }
        Map<String, Long> compiler = new HashMap<>();
        for (String line : Files.readAllLines(table)) {
            String[] p = line.split(" ");
            compiler.put(p[0].equals("struct") ? p[1] : p[1] + "." + p[2], Long.parseLong(p[p.length - 1]));
        }
        for (ParamsHeader.Struct s : header.structs().values()) {
            assertEquals(compiler.get(s.name()), s.size(), s.name() + " sizeof");
            for (ParamsHeader.Field f : s.fields()) {
                assertEquals(compiler.get(s.name() + "." + f.name()), f.offset(), s.name() + "." + f.name() + " offsetof");
            }
        }
    }

    @Test
    void limitsMatchTheHeaderDefines() throws IllegalAccessException {
        int checked = 0;
        for (Field f : KernelLimits.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                String define = "LS_" + f.getName();
                assertTrue(header.defines().containsKey(define), define + " is not in the header");
                assertEquals(header.defines().get(define), f.getInt(null), define);
                checked++;
            }
        }
        assertEquals(header.defines().size(), checked, "every #define LS_* has a KernelLimits constant");
    }

    @Test
    void writtenStructsCarryTheValuesAtTheirOffsets() {
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var p = new RmsNormParams(0x1111L, 0, 0x3333L, 0x4444L, 5, 6, 7, 8, 9, KernelLimits.DTYPE_BF16, 1e-6f);
            var seg = p.write(arena);
            assertEquals(RmsNormParams.LAYOUT.byteSize(), seg.byteSize());
            assertEquals(0x1111L, seg.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(0x4444L, seg.get(ValueLayout.JAVA_LONG, 24));
            assertEquals(5, seg.get(ValueLayout.JAVA_INT, 32));
            assertEquals(1e-6f, seg.get(ValueLayout.JAVA_FLOAT, 56));
            assertEquals(0, seg.get(ValueLayout.JAVA_INT, 60));
        }
    }

    @Test
    void mlaDecodeStructsCarryTheValuesAtTheirOffsets() {
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var d = new MlaDecodeParams(1, 2, 3, 4, 5, 6, 7, 0x8888L, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0.5f);
            var seg = d.write(arena);
            assertEquals(120, seg.byteSize());
            assertEquals(0x8888L, seg.get(ValueLayout.JAVA_LONG, 56));
            assertEquals(9, seg.get(ValueLayout.JAVA_INT, 64));
            assertEquals(19, seg.get(ValueLayout.JAVA_INT, 104));
            assertEquals(0.5f, seg.get(ValueLayout.JAVA_FLOAT, 108));
            assertEquals(KernelLimits.DTYPE_F32, seg.get(ValueLayout.JAVA_INT, 112), "the short form reads an f32 cache");
            var b = new MlaDecodeParams(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0.5f,
                    KernelLimits.DTYPE_BF16);
            assertEquals(KernelLimits.DTYPE_BF16, b.write(arena).get(ValueLayout.JAVA_INT, 112));
            assertEquals(110_592, KernelLimits.mlaDecodeSharedBytes(512, 64));
            assertEquals(55_296, KernelLimits.mlaDecodeSharedBytes(512, 64, 2), "bf16 tiles: half");
            assertEquals(3 * 16 * 96, KernelLimits.mlaDecodeSharedBytes(40, 7, 2), "47 bf16 rows padded to 96 bytes");
            var a = new AttentionParams(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                    23, 24, 25, 26, 27, 28, 0.25f, KernelLimits.DTYPE_BF16);
            seg = a.write(arena);
            assertEquals(0.25f, seg.get(ValueLayout.JAVA_FLOAT, AttentionParams.LAYOUT.byteSize() - 8));
            assertEquals(KernelLimits.DTYPE_BF16, seg.get(ValueLayout.JAVA_INT, AttentionParams.LAYOUT.byteSize() - 4));
            var copy = new CopyRowsParams(1, 2, 3, 4, 5, 6, 7, 8, KernelLimits.DTYPE_F32, KernelLimits.DTYPE_BF16);
            seg = copy.write(arena);
            assertEquals(56, seg.byteSize());
            assertEquals(KernelLimits.DTYPE_F32, seg.get(ValueLayout.JAVA_INT, 48));
            assertEquals(KernelLimits.DTYPE_BF16, seg.get(ValueLayout.JAVA_INT, 52));
            var tc = new MlaDecodeTcParams(1, 0x2222L, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0.25f,
                    false);
            seg = tc.write(arena);
            assertEquals(112, seg.byteSize());
            assertEquals(0x2222L, seg.get(ValueLayout.JAVA_LONG, 8));
            assertEquals(15, seg.get(ValueLayout.JAVA_INT, 88));
            assertEquals(0.25f, seg.get(ValueLayout.JAVA_FLOAT, 108));
            assertEquals("ls_mla_decode_tc", tc.kernel());
            var tma = new MlaDecodeTcParams(1, 0x2222L, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0.25f,
                    true);
            assertEquals("ls_mla_decode_tma", tma.kernel());
            assertEquals(seg.byteSize(), tma.write(arena).byteSize(), "the same struct");
            assertEquals(-1, seg.mismatch(tma.write(arena)), "the same bytes: the flag picks the kernel only");
            var c = new MlaCombineParams(1, 2, 3, 0x4444L, 5, 6, 7, 8, 9);
            seg = c.write(arena);
            assertEquals(56, seg.byteSize());
            assertEquals(0x4444L, seg.get(ValueLayout.JAVA_LONG, 24));
            assertEquals(9, seg.get(ValueLayout.JAVA_INT, 48));
            assertEquals(0, seg.get(ValueLayout.JAVA_INT, 52));
        }
    }
}
