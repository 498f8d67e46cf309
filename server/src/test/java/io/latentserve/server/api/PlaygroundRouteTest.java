package io.latentserve.server.api;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The playground's files at / and /playground/*: served from the classpath, open even with an API key. */
class PlaygroundRouteTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.demo("--api-key", "sk-playground");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void theRootIsThePlaygroundPage() {
        HttpJson.Reply r = server.http.get("/");
        assertEquals(200, r.status(), r.text());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/html"));
        assertTrue(r.text().contains("LatentServe") && r.text().contains("/playground/app.js"), r.text());
        assertTrue(r.text().contains("id=\"chat-input\"") && r.text().contains("id=\"fim-prefix\""));
    }

    @Test
    void itsAssetsAreServedWithTheirTypes() {
        HttpJson.Reply js = server.http.get("/playground/app.js");
        assertEquals(200, js.status());
        assertTrue(js.headers().firstValue("content-type").orElse("").startsWith("text/javascript"));
        assertTrue(js.text().contains("/v1/chat/completions") && js.text().contains("/v1/completions"));
        HttpJson.Reply css = server.http.get("/playground/style.css");
        assertEquals(200, css.status());
        assertTrue(css.headers().firstValue("content-type").orElse("").startsWith("text/css"));
    }

    @Test
    void onlyItsOwnFilesAreServed() {
        for (String path : new String[]{"/playground/secret.txt", "/playground/..%2Fapp.js", "/playground/"}) {
            HttpJson.Reply r = server.http.get(path);
            assertEquals(404, r.status(), path + ": " + r.text());
        }
    }

    @Test
    void theApiBehindItStillNeedsTheKey() {
        assertEquals(401, server.http.get("/v1/models").status());
    }
}
