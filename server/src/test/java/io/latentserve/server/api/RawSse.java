package io.latentserve.server.api;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A streaming request over a bare socket, so a test can walk away mid-stream exactly as a client that
 * crashes does: read a few events, then close the connection.
 */
final class RawSse implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;

    RawSse(int port, String path, String json) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(120_000);
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    /** The reply as it arrives (after any events already consumed). */
    BufferedReader reader() {
        return in;
    }

    /** The status line, e.g. "HTTP/1.1 200 OK". */
    String statusLine() throws IOException {
        return in.readLine();
    }

    /** Reads until the n-th "data:" line and returns it. */
    String awaitEvent(int n) throws IOException {
        int seen = 0;
        for (String line; (line = in.readLine()) != null; ) {
            if (line.startsWith("data: ") && ++seen == n) {
                return line;
            }
        }
        throw new IOException("the stream ended after " + seen + " events");
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
