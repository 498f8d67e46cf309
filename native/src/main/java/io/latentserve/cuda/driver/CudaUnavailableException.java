package io.latentserve.cuda.driver;

/**
 * The CUDA stack cannot be used here: a library is missing, fails to load, or the machine has no
 * suitable GPU. The message is meant for the person starting the server, so it says what was tried.
 */
public class CudaUnavailableException extends RuntimeException {
    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
