package io.latentserve.cuda.kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * latentserve_params.h read with two regular expressions: the structs (fields of ls_ptr, int, float, one a
 * line) laid out with the C rules (each field at a multiple of its size, the struct padded to its largest
 * alignment), and the integer #defines.
 */
record ParamsHeader(Map<String, Struct> structs, Map<String, Integer> defines) {

    record Field(String name, String type, long size, long offset) {
    }

    record Struct(String name, List<Field> fields, long size) {
    }

    private static final Pattern STRUCT = Pattern.compile("typedef struct \\{\\n(.*?)\\n} (\\w+);", Pattern.DOTALL);
    private static final Pattern FIELD = Pattern.compile("^\\s*(ls_ptr|int|float)\\s+(\\w+);", Pattern.MULTILINE);
    private static final Pattern DEFINE = Pattern.compile("^#define (LS_\\w+) (-?\\d+)\\s*$", Pattern.MULTILINE);

    static ParamsHeader parse(Path header) throws IOException {
        String text = Files.readString(header);
        Map<String, Struct> structs = new LinkedHashMap<>();
        Matcher s = STRUCT.matcher(text);
        while (s.find()) {
            String body = s.group(1);
            List<Field> fields = new ArrayList<>();
            long offset = 0;
            long maxAlign = 1;
            Matcher f = FIELD.matcher(body);
            int count = 0;
            while (f.find()) {
                long size = f.group(1).equals("ls_ptr") ? 8 : 4;
                offset = (offset + size - 1) / size * size;
                fields.add(new Field(f.group(2), f.group(1), size, offset));
                offset += size;
                maxAlign = Math.max(maxAlign, size);
                count++;
            }
            long lines = body.lines().filter(l -> l.contains(";")).count();
            if (lines != count) {
                throw new IllegalStateException(s.group(2) + ": " + lines + " declarations but " + count
                        + " parsed as ls_ptr/int/float fields; keep one plain field per line");
            }
            long size = (offset + maxAlign - 1) / maxAlign * maxAlign;
            structs.put(s.group(2), new Struct(s.group(2), fields, size));
        }
        Map<String, Integer> defines = new LinkedHashMap<>();
        Matcher d = DEFINE.matcher(text);
        while (d.find()) {
            defines.put(d.group(1), Integer.parseInt(d.group(2)));
        }
        return new ParamsHeader(structs, defines);
    }

    /** The header: from the source tree (set by the build), else the copy in the jar's resources. */
    static Path locate() throws IOException {
        String prop = System.getProperty("latentserve.kernels.header");
        if (prop != null && Files.isRegularFile(Path.of(prop))) {
            return Path.of(prop);
        }
        Path source = Path.of("../cuda-kernels/include/latentserve_params.h");
        if (Files.isRegularFile(source)) {
            return source;
        }
        try (var in = ParamsHeader.class.getResourceAsStream(KernelModule.HEADER_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("latentserve_params.h is neither in the source tree nor in the jar");
            }
            Path tmp = Files.createTempFile("latentserve_params", ".h");
            Files.write(tmp, in.readAllBytes());
            tmp.toFile().deleteOnExit();
            return tmp;
        }
    }
}
