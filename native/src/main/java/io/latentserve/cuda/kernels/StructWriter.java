package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Fills a parameter struct member after member, in layout order, skipping the padding members (named
 * pad...), and checks each value's type against the member it lands in: a record whose write() got out
 * of step with its LAYOUT fails at the first launch rather than passing garbage to a kernel.
 */
final class StructWriter {
    private final StructLayout layout;
    private final List<MemoryLayout> members;
    private final MemorySegment segment;
    private int next;
    private long offset;

    private StructWriter(Arena arena, StructLayout layout) {
        this.layout = layout;
        this.members = layout.memberLayouts();
        this.segment = arena.allocate(layout); // zeroed: padding stays 0
    }

    static StructWriter of(Arena arena, StructLayout layout) {
        return new StructWriter(arena, layout);
    }

    StructWriter ptr(long deviceAddress) {
        segment.set(ValueLayout.JAVA_LONG, advance(ValueLayout.JAVA_LONG.carrier()), deviceAddress);
        return this;
    }

    StructWriter i32(int value) {
        segment.set(ValueLayout.JAVA_INT, advance(int.class), value);
        return this;
    }

    StructWriter f32(float value) {
        segment.set(ValueLayout.JAVA_FLOAT, advance(float.class), value);
        return this;
    }

    MemorySegment done() {
        skipPadding();
        if (next != members.size()) {
            throw new IllegalStateException(layout.name().orElse("struct") + ": member "
                    + members.get(next).name().orElse("#" + next) + " was not written");
        }
        return segment;
    }

    private long advance(Class<?> carrier) {
        skipPadding();
        if (next >= members.size()) {
            throw new IllegalStateException(layout.name().orElse("struct") + ": more values than members");
        }
        MemoryLayout m = members.get(next);
        if (!(m instanceof ValueLayout v) || v.carrier() != carrier) {
            throw new IllegalStateException(layout.name().orElse("struct") + ": member " + m.name().orElse("?")
                    + " is " + m + ", not a " + carrier);
        }
        long at = offset;
        offset += m.byteSize();
        next++;
        return at;
    }

    private void skipPadding() {
        while (next < members.size() && isPadding(members.get(next))) {
            offset += members.get(next).byteSize();
            next++;
        }
    }

    private static boolean isPadding(MemoryLayout m) {
        return m.name().map(n -> n.startsWith("pad")).orElse(true);
    }
}
