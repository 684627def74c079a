// The web chat page of mgm-run serve: plain JavaScript, no build step. It talks to the same
// OpenAI-compatible endpoint as any client: POST /v1/chat/completions with stream: true, read as
// server-sent events through fetch + ReadableStream. The conversation lives here, in the page; the
// server keeps nothing between requests.
"use strict";

const $ = (id) => document.getElementById(id);
const messagesView = $("messages");
const promptInput = $("prompt");
const sendButton = $("send");
const stopButton = $("stop");
const previews = $("image-previews");
const apiKeyInput = $("api-key");

const conversation = [];   // OpenAI messages sent so far (user and assistant)
let pendingImages = [];    // data: URLs attached to the next message
let modelId = "default";
let controller = null;     // aborts the answer in progress

apiKeyInput.value = localStorage.getItem("mgm-api-key") || "";
apiKeyInput.addEventListener("change", () => {
  localStorage.setItem("mgm-api-key", apiKeyInput.value);
  loadModel();
});

function headers() {
  const h = { "Content-Type": "application/json" };
  if (apiKeyInput.value) h["Authorization"] = "Bearer " + apiKeyInput.value;
  return h;
}

async function loadModel() {
  try {
    const r = await fetch("v1/models", { headers: headers() });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
    modelId = body.data[0].id;
    $("model-name").textContent = modelId;
  } catch (e) {
    $("model-name").textContent = "model unavailable: " + e.message;
  }
}

// ---------------------------------------------------------------- images

function addImageFile(file) {
  if (!file || !file.type.startsWith("image/")) return;
  const reader = new FileReader();
  reader.onload = () => {
    pendingImages.push(reader.result);
    showPreviews();
  };
  reader.readAsDataURL(file);
}

function showPreviews() {
  previews.replaceChildren();
  pendingImages.forEach((url, i) => {
    const fig = document.createElement("figure");
    const img = document.createElement("img");
    img.src = url;
    img.alt = "image " + (i + 1);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.title = "Remove";
    remove.addEventListener("click", () => {
      pendingImages.splice(i, 1);
      showPreviews();
    });
    fig.append(img, remove);
    previews.append(fig);
  });
}

$("image-input").addEventListener("change", (e) => {
  for (const f of e.target.files) addImageFile(f);
  e.target.value = "";
});

promptInput.addEventListener("paste", (e) => {
  for (const item of e.clipboardData.items) {
    if (item.kind === "file" && item.type.startsWith("image/")) {
      addImageFile(item.getAsFile());
      e.preventDefault();
    }
  }
});

const composer = $("composer");
composer.addEventListener("dragover", (e) => { e.preventDefault(); composer.classList.add("dragging"); });
composer.addEventListener("dragleave", () => composer.classList.remove("dragging"));
composer.addEventListener("drop", (e) => {
  e.preventDefault();
  composer.classList.remove("dragging");
  for (const f of e.dataTransfer.files) addImageFile(f);
});

// ---------------------------------------------------------------- messages

function addBubble(role, text, images) {
  const div = document.createElement("div");
  div.className = "message " + role;
  for (const url of images || []) {
    const img = document.createElement("img");
    img.src = url;
    img.alt = "attached image";
    div.append(img);
  }
  const span = document.createElement("span");
  span.className = "text";
  span.textContent = text;
  div.append(span);
  messagesView.append(div);
  messagesView.scrollTop = messagesView.scrollHeight;
  return div;
}

function number(value) {
  const v = parseFloat(value);
  return Number.isFinite(v) ? v : undefined;
}

/** One line from mgm_timings, e.g. "image 412 ms · prompt 613 tokens, 812.4 tok/s · 48 tokens, 11.9 tok/s". */
function timingsLine(t, finishReason) {
  const parts = [];
  if (t.image_encode_ms > 0) parts.push("image " + Math.round(t.image_decode_ms + t.image_encode_ms) + " ms");
  parts.push("prompt " + t.prompt_tokens + " tokens, " + t.prefill_tokens_per_second + " tok/s");
  parts.push(t.completion_tokens + " tokens, " + t.decode_tokens_per_second + " tok/s");
  parts.push("first token " + (t.time_to_first_token_ms / 1000).toFixed(2) + " s");
  if (t.queue_ms >= 1) parts.push("queued " + (t.queue_ms / 1000).toFixed(2) + " s");
  parts.push("total " + (t.total_ms / 1000).toFixed(2) + " s");
  if (finishReason === "length") parts.push("stopped at max tokens");
  return parts.join(" · ");
}

function showError(bubble, message) {
  bubble.classList.add("error");
  bubble.querySelector(".text").textContent += (bubble.querySelector(".text").textContent ? "\n" : "") + message;
}

function busy(on) {
  sendButton.disabled = on;
  stopButton.hidden = !on;
}

async function send(text) {
  const images = pendingImages;
  const content = images.length === 0 ? text
    : [...(text ? [{ type: "text", text }] : []), ...images.map((url) => ({ type: "image_url", image_url: { url } }))];
  const userMessage = { role: "user", content };
  addBubble("user", text, images);
  pendingImages = [];
  showPreviews();

  const request = {
    model: modelId,
    messages: [...conversation, userMessage],
    stream: true,
    temperature: number($("temperature").value),
    top_p: number($("top-p").value),
    max_tokens: number($("max-tokens").value),
  };
  const bubble = addBubble("assistant", "");
  const textView = bubble.querySelector(".text");
  let answer = "";
  controller = new AbortController();
  busy(true);
  try {
    const r = await fetch("v1/chat/completions",
      { method: "POST", headers: headers(), body: JSON.stringify(request), signal: controller.signal });
    if (!r.ok) {
      let message = r.status + " " + r.statusText;
      try { message = (await r.json()).error.message; } catch (ignored) { /* not JSON */ }
      showError(bubble, message);
      return;
    }
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data: ")) continue;     // ": waiting" comments keep the connection alive
          const data = line.slice(6);
          if (data === "[DONE]") continue;
          const chunk = JSON.parse(data);
          if (chunk.error) { showError(bubble, chunk.error.message); continue; }
          const choice = chunk.choices && chunk.choices[0];
          if (choice && choice.delta && choice.delta.content) {
            answer += choice.delta.content;
            textView.textContent = answer;
            messagesView.scrollTop = messagesView.scrollHeight;
          }
          if (chunk.mgm_timings) {
            const t = document.createElement("small");
            t.className = "timings";
            t.textContent = timingsLine(chunk.mgm_timings, choice && choice.finish_reason);
            bubble.append(t);
          }
        }
      }
    }
    conversation.push(userMessage, { role: "assistant", content: answer });
  } catch (e) {
    if (e.name === "AbortError") {
      textView.textContent = answer + (answer ? " " : "") + "[stopped]";
      if (answer) conversation.push(userMessage, { role: "assistant", content: answer });
    } else {
      showError(bubble, String(e.message || e));
    }
  } finally {
    controller = null;
    busy(false);
    promptInput.focus();
  }
}

composer.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = promptInput.value.trim();
  if ((!text && pendingImages.length === 0) || controller) return;
  promptInput.value = "";
  send(text);
});

promptInput.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    composer.requestSubmit();
  }
});

stopButton.addEventListener("click", () => controller && controller.abort());

$("new-chat").addEventListener("click", () => {
  if (controller) controller.abort();
  conversation.length = 0;
  pendingImages = [];
  showPreviews();
  messagesView.replaceChildren();
});

loadModel();
