// A conversation's messages, with the one a memory came from highlighted.

import { api, query } from "../api.js";
import { badge, card, h, when } from "../dom.js";

export async function render(root, ctx) {
  const [conversationId, messageId] = ctx.params;
  const path = `/api/chat/conversations/${encodeURIComponent(conversationId)}`;
  const detail = await api("GET", `${path}?limit=200`);
  // A source message older than the latest 200: page back until it is on the page (a few pages at most).
  for (let pages = 0; messageId && pages < 5 && detail.messages.length; pages += 1) {
    if (detail.messages.some((m) => m.id === messageId)) break;
    const older = await api("GET", `${path}/messages${query({ limit: 200, before_id: detail.messages[0].id })}`);
    if (!older.items.length) break;
    detail.messages = [...older.items, ...detail.messages];
  }
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
    h(
      "p",
      { class: "muted" },
      `started ${when(detail.conversation.created_at)} · ${detail.messages.length} messages · `,
      h("a", { href: `#/chat/${encodeURIComponent(detail.conversation.id)}`, id: "continue-chat" }, "continue it in the chat"),
    ),
    card(null, h("ol", { class: "messages", id: "messages" }, items)),
  );
  const target = messageId && document.getElementById(`message-${messageId}`);
  if (target) target.scrollIntoView({ block: "center" });
}
