package io.latentserve.cuda.memory;

/** An arena has no room for an allocation; the message names the arena, the request and what is left. */
public class ArenaExhaustedException extends IllegalStateException {
    public ArenaExhaustedException(String message) {
        super(message);
    }
}
