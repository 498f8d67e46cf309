/** CUDA backend and FFM bindings (later issues). */
package io.latentserve;
