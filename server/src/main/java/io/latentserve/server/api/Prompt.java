package io.latentserve.server.api;

/**
 * One prompt ready for the engine.
 *
 * @param ids  the token ids, BOS included where the model wants it
 * @param text the prompt as text (for echo), without an added BOS
 */
record Prompt(int[] ids, String text) {
}
