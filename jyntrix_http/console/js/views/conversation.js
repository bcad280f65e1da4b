// A conversation's messages, with the one a memory came from highlighted.

import { api } from "../api.js";
import { badge, card, h, when } from "../dom.js";

export async function render(root, ctx) {
  const [conversationId, messageId] = ctx.params;
  const detail = await api("GET", `/api/chat/conversations/${encodeURIComponent(conversationId)}?limit=200`);
  const items = detail.messages.map((m) =>
    h(
      "li",
      { class: `message ${m.role}${m.id === messageId ? " target" : ""}`, id: `message-${m.id}`, dataset: { messageId: m.id } },
      h("div", { class: "meta" }, badge(m.role), h("span", { class: "muted" }, ` ${when(m.created_at)}`)),
      h("div", { class: "body" }, m.content),
    ),
  );
  root.append(
    h("p", {}, h("a", { href: "#/memories", on: { click: (e) => { e.preventDefault(); history.back(); } } }, "← Back")),
    h("h1", {}, detail.conversation.title || "Conversation"),
    h("p", { class: "muted" }, `started ${when(detail.conversation.created_at)} · ${detail.messages.length} messages`),
    card(null, h("ol", { class: "messages", id: "messages" }, items)),
  );
  const target = messageId && document.getElementById(`message-${messageId}`);
  if (target) target.scrollIntoView({ block: "center" });
}
