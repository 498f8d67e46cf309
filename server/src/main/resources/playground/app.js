// LatentServe playground: plain JavaScript against the server's own OpenAI-compatible API (no build step).
"use strict";
const $ = (id) => document.getElementById(id);
const chatHistory = [];
let modelName = null;
let running = null; // the AbortController of the request in flight

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

function sampling() {
  return {
    temperature: Number($("temperature").value),
    top_p: Number($("top-p").value),
    repetition_penalty: Number($("repetition-penalty").value),
    max_tokens: Math.max(1, parseInt($("max-tokens").value, 10) || 128),
  };
}

function showError(message) {
  const e = $("error");
  e.textContent = message;
  e.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { e.hidden = true; }, 8000);
}

async function connect() {
  try {
    const ready = await fetch("/ready");
    const state = (await ready.json()).status || "unknown";
    $("server-state").textContent = state;
    $("server-state").className = "state " + (ready.ok ? "ready" : "");
    if (ready.ok) {
      const models = await fetch("/v1/models", { headers: headers() });
      if (models.ok) {
        modelName = (await models.json()).data[0].id;
        $("model-name").textContent = modelName;
        return;
      }
      $("model-name").textContent = "(API key needed: see API key)";
    }
  } catch (e) {
    $("server-state").textContent = "unreachable";
    $("server-state").className = "state down";
  }
  setTimeout(connect, 1000);
}

function setStats(s) {
  const stats = $("stats");
  stats.dataset.state = s.state;
  stats.dataset.chunks = String(s.chunks);
  $("stat-prompt").textContent = s.promptTokens ?? "–";
  $("stat-completion").textContent = s.completionTokens ?? s.chunks;
  $("stat-ttft").textContent = s.firstAt ? Math.round(s.firstAt - s.start) + " ms" : "–";
  const n = s.completionTokens ?? s.chunks;
  const secs = s.lastAt && s.firstAt && s.lastAt > s.firstAt ? (s.lastAt - s.firstAt) / 1000 : 0;
  $("stat-rate").textContent = n > 1 && secs > 0 ? ((n - 1) / secs).toFixed(1) : "–";
  $("stat-finish").textContent = s.finish ?? (s.state === "streaming" ? "…" : "–");
}

/** POSTs with stream: true and feeds each text delta of the SSE reply to onDelta; resolves with the stats. */
async function stream(path, body, onDelta) {
  running = new AbortController();
  const s = { state: "streaming", chunks: 0, start: performance.now() };
  setStats(s);
  try {
    const res = await fetch(path, {
      method: "POST", headers: headers(), signal: running.signal,
      body: JSON.stringify(Object.assign({ model: modelName, stream: true,
        stream_options: { include_usage: true } }, sampling(), body)),
    });
    if (!res.ok) {
      const err = await res.json().catch(() => null);
      throw new Error((err && err.error && err.error.message) || "HTTP " + res.status);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data: ")) continue;
          const data = line.slice(6);
          if (data === "[DONE]") continue;
          const chunk = JSON.parse(data);
          if (chunk.error) throw new Error(chunk.error.message);
          if (chunk.usage) {
            s.promptTokens = chunk.usage.prompt_tokens;
            s.completionTokens = chunk.usage.completion_tokens;
          }
          const choice = chunk.choices && chunk.choices[0];
          if (!choice) continue;
          const text = choice.delta ? choice.delta.content : choice.text;
          if (text) {
            const now = performance.now();
            if (!s.firstAt) s.firstAt = now;
            s.lastAt = now;
            s.chunks++;
            onDelta(text);
          }
          if (choice.finish_reason) s.finish = choice.finish_reason;
        }
        setStats(s);
      }
    }
    s.state = "done";
  } catch (e) {
    if (e.name === "AbortError") {
      s.state = "done";
      s.finish = "stopped";
    } else {
      s.state = "error";
      showError(e.message);
    }
  } finally {
    running = null;
    setStats(s);
  }
  return s;
}

function addMessage(role, text) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  const content = document.createElement("span");
  content.className = "content";
  content.textContent = text;
  div.appendChild(content);
  $("chat-log").appendChild(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

function busy(on) {
  for (const id of ["chat-send", "fim-run"]) $(id).disabled = on;
  for (const id of ["chat-stop", "fim-stop"]) $(id).disabled = !on;
}

async function sendChat(event) {
  event.preventDefault();
  const text = $("chat-input").value.trim();
  if (!text || running) return;
  $("chat-input").value = "";
  addMessage("user", text);
  chatHistory.push({ role: "user", content: text });
  const bubble = addMessage("assistant", "");
  bubble.classList.add("streaming");
  const content = bubble.querySelector(".content");
  busy(true);
  const s = await stream("/v1/chat/completions", { messages: chatHistory }, (d) => {
    content.textContent += d;
    bubble.scrollIntoView({ block: "end" });
  });
  busy(false);
  bubble.classList.remove("streaming");
  if (s.state === "error") {
    chatHistory.pop();
    bubble.remove();
  } else {
    chatHistory.push({ role: "assistant", content: content.textContent });
  }
}

async function runFim() {
  if (running) return;
  const prefix = $("fim-prefix").value;
  const suffix = $("fim-suffix").value;
  $("fim-before").textContent = prefix;
  $("fim-middle").textContent = "";
  $("fim-after").textContent = suffix;
  busy(true);
  const body = suffix ? { prompt: prefix, suffix: suffix } : { prompt: prefix };
  await stream("/v1/completions", body, (d) => { $("fim-middle").textContent += d; });
  busy(false);
}

function init() {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => {
      for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t === tab);
      for (const p of document.querySelectorAll(".panel")) p.classList.toggle("active", p.id === tab.dataset.panel);
    });
  }
  for (const [input, out] of [["temperature", "temperature-value"], ["top-p", "top-p-value"],
    ["repetition-penalty", "repetition-penalty-value"]]) {
    $(input).addEventListener("input", () => { $(out).textContent = $(input).value; });
  }
  $("chat-form").addEventListener("submit", sendChat);
  $("chat-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) sendChat(e);
  });
  $("chat-stop").addEventListener("click", () => running && running.abort());
  $("fim-stop").addEventListener("click", () => running && running.abort());
  $("chat-clear").addEventListener("click", () => {
    chatHistory.length = 0;
    for (const m of document.querySelectorAll("#chat-log .msg")) m.remove();
  });
  $("fim-run").addEventListener("click", runFim);
  const key = localStorage.getItem("latentserve-api-key");
  if (key) $("api-key").value = key;
  $("api-key").addEventListener("change", () => {
    localStorage.setItem("latentserve-api-key", $("api-key").value.trim());
    connect();
  });
  connect();
}

init();
