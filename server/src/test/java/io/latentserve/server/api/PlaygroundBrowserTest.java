package io.latentserve.server.api;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The playground in a real browser (headless Chromium from Debian's package, over the DevTools protocol): a user
 * types a chat message and sees the demo model's reply stream in, and fills a FIM hole in the code tab. Without
 * Chromium these tests fail, saying how to install it: they are never silently skipped.
 */
class PlaygroundBrowserTest {
    private static final Duration GENERATION = Duration.ofSeconds(180);

    private static TestServer server;
    private static Chromium browser;

    @BeforeAll
    static void start() throws Exception {
        Chromium.binary(); // fails first, with the install hint, when the browser is missing
        server = TestServer.demo();
        browser = Chromium.launch();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (browser != null) {
                browser.close();
            }
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }

    private static void openPlayground() throws InterruptedException {
        browser.navigate(server.http.base() + "/");
        browser.waitFor("document.getElementById('model-name').textContent === 'demo'", Duration.ofSeconds(30));
        browser.eval("document.getElementById('max-tokens').value = '32'");
        browser.eval("document.getElementById('temperature').value = '0'");
    }

    @Test
    void aChatMessageGetsAStreamedReply() throws InterruptedException {
        openPlayground();
        browser.eval("document.getElementById('chat-input').focus()");
        browser.type("Write a Python function that reverses a string.");
        browser.press("Enter", 13);
        browser.waitFor("document.getElementById('stats').dataset.state === 'done'", GENERATION);

        assertEquals("Write a Python function that reverses a string.",
                browser.eval("document.querySelector('#chat-log .msg.user .content').textContent").asText());
        String reply = browser.eval("document.querySelector('#chat-log .msg.assistant .content').textContent").asText();
        assertFalse(reply.isBlank(), "the reply arrived");
        int chunks = browser.eval("Number(document.getElementById('stats').dataset.chunks)").asInt();
        assertTrue(chunks > 1, "the reply streamed in pieces, got " + chunks + " chunk(s): " + reply);
        assertTrue(browser.eval("Number(document.getElementById('stat-completion').textContent)").asInt() > 0);
        assertTrue(browser.eval("Number(document.getElementById('stat-prompt').textContent)").asInt() > 10);
        assertFalse(browser.eval("document.getElementById('stat-rate').textContent").asText().equals("–"),
                "tokens/s is shown");
        assertTrue(browser.eval("document.getElementById('error').hidden").asBoolean(), "no error shown");
        System.out.println("playground chat reply: " + reply);
    }

    @Test
    void theCodeTabFillsTheMiddle() throws InterruptedException {
        openPlayground();
        browser.eval("document.getElementById('tab-fim').click()");
        browser.waitFor("document.getElementById('panel-fim').classList.contains('active')", Duration.ofSeconds(5));
        browser.eval("document.getElementById('fim-prefix').value = ''");
        browser.eval("document.getElementById('fim-prefix').focus()");
        browser.type("def add(a, b):\n    ");
        browser.eval("document.getElementById('fim-suffix').value = '\\n\\n\\nprint(add(1, 2))\\n'");
        browser.eval("document.getElementById('fim-run').click()");
        browser.waitFor("document.getElementById('stats').dataset.state === 'done'", GENERATION);

        String middle = browser.eval("document.getElementById('fim-middle').textContent").asText();
        assertFalse(middle.isEmpty(), "the middle arrived");
        assertEquals("def add(a, b):\n    ", browser.eval("document.getElementById('fim-before').textContent").asText());
        assertTrue(browser.eval("document.getElementById('fim-after').textContent").asText().contains("print(add(1, 2))"));
        assertTrue(browser.eval("Number(document.getElementById('stats').dataset.chunks)").asInt() > 0);
        System.out.println("playground FIM middle: " + middle);
    }
}
