package io.latentserve.server.api;

import io.latentserve.server.engine.GenerationOutput;

import java.util.List;

/** How one streaming endpoint turns engine outputs into events (OpenAI chunks or llama.cpp lines). */
interface ChunkFormat {
    /** Events sent for a choice before any output (chat: the role; completions: the echoed prompt). */
    List<Object> opening(Submission.Choice choice);

    /** Events for one output; the choice's final output includes its finish event. */
    List<Object> output(Submission.Choice choice, GenerationOutput output);

    /** The trailing usage event (stream_options.include_usage), or null for formats that have none. */
    Object usage(Usage usage);
}
