package io.latentserve.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import io.latentserve.model.TestData;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChatTemplateTest {
    private static final String BOS = ChatTemplate.DEEPSEEK_BOS;
    private static final String EOS = ChatTemplate.DEEPSEEK_EOS;
    private static final List<ChatMessage> CHAT = List.of(
            ChatMessage.system("You are a helpful assistant."),
            ChatMessage.user("What is the capital of France?"),
            ChatMessage.assistant("The capital of France is Paris."),
            ChatMessage.user("And what is the capital of Germany? Answer in one word."));

    private static ChatTemplate llmTemplate() {
        return ChatTemplate.fromTokenizerConfig(TestTokenizers.dir().resolve("deepseek-llm.tokenizer_config.json"));
    }

    @Test
    void jinjaTemplateEqualsBuiltInFormatAndGoldenPrompt() {
        ChatTemplate jinja = llmTemplate();
        assertFalse(jinja.isBuiltIn());
        String rendered = jinja.render(CHAT, true);
        assertEquals(ChatTemplate.deepSeekV2(BOS, EOS).render(CHAT, true), rendered);

        Path golden = TestData.require("tiny-deepseek-v2-lite").resolve("golden.json");
        JsonNode prompt = TokenizerJsonLoader.read(golden).path("prompts").get(3);
        assertEquals("chat", prompt.path("name").asText());
        assertEquals(prompt.path("text").asText(), rendered);
        int[] expectedIds = new int[prompt.path("prompt_ids").size()];
        for (int i = 0; i < expectedIds.length; i++) {
            expectedIds[i] = prompt.path("prompt_ids").get(i).asInt();
        }
        // The text starts with the BOS string, an added token: no second BOS may be added.
        assertArrayEquals(expectedIds, TestTokenizers.llm().encode(rendered, false));
        assertArrayEquals(expectedIds, TestTokenizers.get("llm", "gguf").encode(rendered, false));
    }

    @Test
    void builtInFormatIsExact() {
        ChatTemplate t = ChatTemplate.deepSeekV2("<B>", "<E>");
        assertEquals("<B>S\n\nUser: u1\n\nAssistant: a1<E>User: u2\n\nAssistant:", t.render(List.of(
                ChatMessage.system("S"), ChatMessage.user("u1"), ChatMessage.assistant("a1"), ChatMessage.user("u2")), true));
        assertEquals("<B>User: u\n\n", t.render(List.of(ChatMessage.user("u")), false));
        assertFalse(t.render(List.of(ChatMessage.user("u")), true).endsWith(" "));
    }

    @Test
    void configWithoutTemplateFallsBackToBuiltIn() {
        ChatTemplate coder = ChatTemplate.fromTokenizerConfig(TestTokenizers.dir().resolve("deepseek-coder.tokenizer_config.json"));
        assertTrue(coder.isBuiltIn());
        assertEquals(BOS + "User: hi\n\nAssistant:", coder.render(List.of(ChatMessage.user("hi")), true));
    }

    @Test
    void messageTextIsNeverInterpretedAsTemplate() {
        String text = "{{ 7 * 7 }} {% if true %}x{% endif %}";
        assertEquals(BOS + "User: " + text + "\n\nAssistant:", llmTemplate().render(List.of(ChatMessage.user(text)), true));
    }

    @Test
    void raiseExceptionStopsRenderingWithTheTemplatesMessage() {
        ChatTemplate t = ChatTemplate.jinja(
                "{% for m in messages %}{% if m['role'] == 'tool' %}{{ raise_exception('tool role is not supported') }}"
                        + "{% endif %}{{ m['content'] }}{% endfor %}", BOS, EOS);
        assertEquals("ok", t.render(List.of(ChatMessage.user("ok")), false));
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(new ChatMessage("tool", "x")), false));
        assertTrue(e.getMessage().contains("tool role is not supported"), e.getMessage());
    }

    @Test
    void brokenTemplateIsAClearError() {
        ChatTemplate t = ChatTemplate.jinja("{% for m in messages %}{{ m.content }}", BOS, EOS);
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> t.render(CHAT, true));
        assertTrue(e.getMessage().contains("chat template error"), e.getMessage());
    }

    @Test
    void hfStyleWhitespaceControl() {
        // trim_blocks and lstrip_blocks, as HuggingFace renders templates.
        ChatTemplate t = ChatTemplate.jinja("{% for m in messages %}\n    {% if true %}\n[{{ m.content }}]\n    {% endif %}\n{% endfor %}",
                BOS, EOS);
        assertEquals("[a]\n[b]\n", t.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), false));
    }
}
