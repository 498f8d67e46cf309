package io.latentserve.server;

/** Command-line entry point: `latentserve serve|generate|bench|chat`. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("latentserve: commands are being built");
    }
}
