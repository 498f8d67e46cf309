package io.latentserve.cuda.cublas;

/**
 * A cuBLAS call returned something other than CUBLAS_STATUS_SUCCESS. The message names the call and the
 * status (e.g. {@code cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE (7)}), plus the shapes for GEMMs.
 */
public class CublasException extends RuntimeException {
    private final String call;
    private final int status;

    public CublasException(String call, int status) {
        this(call, status, null);
    }

    /** @param detail what was asked (shapes, types), or null */
    public CublasException(String call, int status, String detail) {
        super(call + " failed: " + statusName(status) + " (" + status + ")"
                + (detail == null || detail.isBlank() ? "" : " [" + detail + "]"));
        this.call = call;
        this.status = status;
    }

    public String call() {
        return call;
    }

    public int status() {
        return status;
    }

    /** The cublasStatus_t name (values from cublas_api.h), or CUBLAS_STATUS_UNKNOWN for a value not listed there. */
    public static String statusName(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "CUBLAS_STATUS_UNKNOWN";
        };
    }
}
