// The stand-in UI's bundle: asks the server it came from for its props, then a chat.
const show = (id, text) => (document.getElementById(id).textContent = text);
try {
  const props = await (await fetch("./props")).json();
  show("model", `model: ${props.model_alias ?? props.model_path}, slots: ${props.total_slots}`);
  const res = await fetch("./v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ max_tokens: 4, messages: [{ role: "user", content: "hi" }] }),
  });
  const chat = await res.json();
  show("reply", `reply (${chat.usage.completion_tokens} tokens): ${chat.choices[0].message.content}`);
} catch (e) {
  show("model", `error: ${e}`);
}
