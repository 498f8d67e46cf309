package io.latentserve.cuda.driver;

/**
 * A CUDA driver call returned something other than CUDA_SUCCESS. The message names the call and the
 * error (e.g. {@code cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory}), so a log line
 * is enough to know what broke without a debugger.
 */
public class CudaException extends RuntimeException {
    private final String call;
    private final int status;
    private final String errorName;

    /**
     * @param errorName   the CUresult name from cuGetErrorName, or null when the driver could not name it
     * @param description the text from cuGetErrorString, or null
     */
    public CudaException(String call, int status, String errorName, String description) {
        super(message(call, status, errorName, description));
        this.call = call;
        this.status = status;
        this.errorName = errorName;
    }

    static String message(String call, int status, String errorName, String description) {
        StringBuilder sb = new StringBuilder(call).append(" failed: ");
        if (errorName == null) {
            sb.append("CUDA error ").append(status);
        } else {
            sb.append(errorName).append(" (").append(status).append(')');
        }
        if (description != null && !description.isBlank()) {
            sb.append(": ").append(description);
        }
        return sb.toString();
    }

    /** The driver function that failed, with its exported symbol name (e.g. cuMemAlloc_v2). */
    public String call() {
        return call;
    }

    /** The raw CUresult. */
    public int status() {
        return status;
    }

    /** The CUresult name (CUDA_ERROR_...), or null when the driver could not name it. */
    public String errorName() {
        return errorName;
    }
}
