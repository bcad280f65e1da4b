// Chat playground: one turn streamed over SSE, with the context event, the tokens and the phase timings live.

import { api, streamTurn } from "../api.js";
import { budgetBar, groupedBars } from "../charts.js";
import { badge, card, clear, conversationHref, h, memoryHref, ms, num, replace } from "../dom.js";

let conversationId = null;

function contextView(event, budgets) {
  const memories = h(
    "table",
    { class: "list context-memories", id: "context-memories" },
    h("thead", {}, h("tr", {}, h("th", {}, "ref"), h("th", {}, "type"), h("th", {}, "memory"), h("th", { class: "n" }, "score"), h("th", { class: "n" }, "tokens"))),
    h(
      "tbody",
      {},
      event.memories.length
        ? event.memories.map((m) =>
            h(
              "tr",
              { class: "context-memory", dataset: { ref: m.ref, memoryId: m.id, score: m.score } },
              h("td", {}, `[${m.ref}]`),
              h("td", {}, badge(m.type, m.type)),
              h("td", { class: "content" }, h("a", { href: memoryHref(m.id) }, m.content), " ", (m.match_types || []).map((t) => badge(t, "match"))),
              h("td", { class: "n" }, num(m.score)),
              h("td", { class: "n" }, String(m.tokens)),
            ),
          )
        : h("tr", {}, h("td", { colspan: 5, class: "empty" }, "No memories used.")),
    ),
  );
  const sectionNames = Object.keys({ ...budgets, ...event.tokens_by_section }).filter((n) => n !== "total");
  const sections = h(
    "table",
    { class: "budgets", id: "context-budgets" },
    h(
      "tbody",
      {},
      [...sectionNames, "total"].map((name) => {
        const used = name === "total" ? event.total_tokens : event.tokens_by_section[name] || 0;
        const budget = budgets[name] ?? 0;
        return h(
          "tr",
          { class: "budget-row", dataset: { section: name, used, budget } },
          h("th", { scope: "row" }, name),
          h("td", {}, budgetBar(used, budget)),
          h("td", { class: "n" }, `${used} / ${budget}`),
        );
      }),
    ),
  );
  const strategies = h(
    "ul",
    { class: "chips", id: "context-strategies" },
    (event.strategies || []).map((st) =>
      h("li", { class: `strategy ${st.status}` }, h("strong", {}, st.name), ` ${st.status} · ${st.hits} hits · ${ms(st.duration_ms)}`),
    ),
  );
  return [
    h("p", { class: "muted" }, "intent ", badge(event.intent, "match")),
    h("h3", {}, "Memories used"),
    memories,
    h("h3", {}, "Tokens per section"),
    sections,
    h("h3", {}, "Strategies"),
    strategies,
  ];
}

export async function render(root, ctx) {
  const { budgets } = await api("GET", "/api/console/config");
  const input = h("textarea", { id: "chat-input", rows: 3, placeholder: "Say something, or ask what it remembers…" });
  const asked = h("p", { class: "asked", id: "chat-question" });
  const answer = h("div", { class: "answer", id: "chat-answer", dataset: { tokens: 0, state: "idle" } });
  const context = h("div", { id: "chat-context" }, h("p", { class: "muted" }, "The context event shows here when a turn starts."));
  const timings = h("div", { id: "chat-timings" }, h("p", { class: "muted" }, "Phase timings arrive with `done`."));
  const conversationLine = h("p", { class: "muted", id: "chat-conversation" });
  const send = h("button", { type: "submit", class: "primary", id: "chat-send" }, "Send");
  const fresh = h("button", { type: "button", class: "ghost", id: "chat-new" }, "New conversation");

  const showConversation = () => {
    replace(
      conversationLine,
      conversationId
        ? ["conversation ", h("a", { href: conversationHref(conversationId) }, conversationId)]
        : "a new conversation starts with the next message",
    );
  };
  fresh.addEventListener("click", () => {
    conversationId = null;
    showConversation();
  });

  const turn = async () => {
    const content = input.value.trim();
    if (!content) return;
    send.disabled = true;
    clear(answer);
    replace(asked, h("span", { class: "muted" }, "you: "), content);
    answer.dataset.tokens = "0";
    answer.dataset.state = "streaming";
    const onEvent = (name, data) => {
      if (name === "conversation") {
        conversationId = data.id;
        showConversation();
      } else if (name === "context") {
        replace(context, contextView(data, budgets));
      } else if (name === "token") {
        answer.append(document.createTextNode(data.delta));
        answer.dataset.tokens = String(Number(answer.dataset.tokens) + 1);
      } else if (name === "done") {
        answer.dataset.state = "done";
        const phases = Object.entries(data.phase_timings).map(([label, value]) => ({ label, values: { ms: value } }));
        replace(
          timings,
          groupedBars(phases, ["ms"], { format: (v) => ms(v), title: "phase timings", barArea: 230 }),
          h("p", { class: "muted", id: "chat-usage" }, `usage: ${data.usage.input_tokens} tokens in, ${data.usage.output_tokens} out`),
        );
      } else if (name === "error") {
        answer.dataset.state = "error";
        ctx.flash(`${data.code}: ${data.message}${data.retryable ? " (you can send it again)" : ""}`);
      }
    };
    try {
      await streamTurn(content, conversationId, onEvent);
      input.value = "";
    } finally {
      send.disabled = false;
      if (answer.dataset.state === "streaming") answer.dataset.state = "ended";
    }
  };

  showConversation();
  root.append(
    h("h1", {}, "Chat playground"),
    h(
      "div",
      { class: "grid chat" },
      h(
        "div",
        {},
        card(
          null,
          h(
            "form",
            {
              id: "chat-form",
              on: {
                submit: (event) => {
                  event.preventDefault();
                  turn().catch((e) => ctx.flash(e.message));
                },
              },
            },
            input,
            h("div", { class: "row" }, send, fresh),
          ),
          conversationLine,
        ),
        card("Answer", asked, answer),
        card("Phase timings", timings),
      ),
      card("Context", context),
    ),
  );
}
