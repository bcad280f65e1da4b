// Chat playground: a running conversation, each answer streamed over SSE with the memories its context placed
// (marked relevant or background, current or earlier), and the latest turn's budgets, strategies and timings.
//
// The conversation lives for the tab: its DOM is built once and shown again when the user comes back, so a turn
// still streaming keeps filling it; after a reload the conversation's messages are fetched again.

import { api, chatConversation, streamTurn } from "../api.js";
import { budgetBar, groupedBars, phoneBars, scoreTable } from "../charts.js";
import { badge, card, clear, conversationHref, h, memoryHref, ms, num, replace } from "../dom.js";
import { kindBadge, occurred, relevance, saidBy, standing } from "../marks.js";

let session = null;

function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs a secure context; this does not
  return `console-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

function contextItem(m) {
  return h(
    "li",
    {
      class: `context-memory${m.current === false ? " earlier" : ""}${m.relevant ? " relevant" : ""}`,
      dataset: { ref: m.ref, memoryId: m.id, score: m.score, relevant: Boolean(m.relevant), current: m.current !== false, kind: m.kind, role: m.role || "" },
    },
    h("span", { class: "ref muted" }, `[${m.ref}]`),
    h(
      "div",
      { class: "context-body" },
      h("a", { href: memoryHref(m.id), class: "context-content" }, m.content),
      h(
        "div",
        { class: "memory-meta" },
        relevance(m),
        standing(m, true),
        kindBadge(m.kind),
        badge(m.type, m.type),
        saidBy(m.role, null),
        occurred(m.occurred),
        h("span", { class: "muted score", title: "score" }, `score ${num(m.score)}`),
      ),
      // The same explanation a search result shows: each signal, its weight, what it added.
      m.scores
        ? h(
            "details",
            { class: "why", dataset: { adjustment: m.scores.adjustment || 0 } },
            h("summary", { class: "muted" }, "why this score"),
            scoreTable(m.scores),
            m.scores.adjusted_by ? h("p", { class: "muted adjustment" }, `+ ${num(m.scores.adjustment)} (${m.scores.adjusted_by})`) : null,
          )
        : null,
    ),
  );
}

/** The memories one answer's context placed, in the order of their references. */
function usedMemories(event) {
  const relevant = event.memories.filter((m) => m.relevant).length;
  const earlier = event.memories.filter((m) => m.current === false).length;
  const summary = event.memories.length
    ? `${plural(event.memories.length, "memory", "memories")} in its context · ${relevant} relevant${earlier ? ` · ${earlier} earlier` : ""}`
    : "no memories in its context";
  return h(
    "details",
    { class: "used", open: true, dataset: { memories: event.memories.length, relevant, earlier } },
    h("summary", {}, summary),
    event.memories.length ? h("ol", { class: "context-list" }, event.memories.map(contextItem)) : null,
  );
}

function detailsView(event, budgets) {
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
    h("h3", {}, "Tokens per section"),
    sections,
    h("h3", {}, "Strategies"),
    strategies,
  ];
}

function timingsView(done) {
  const phases = Object.entries(done.phase_timings).map(([label, value]) => ({ label, values: { ms: value } }));
  return [
    groupedBars(phases, ["ms"], { format: (v) => ms(v), title: "phase timings", barArea: 230, ...phoneBars() }),
    h("p", { class: "muted", id: "chat-usage" }, `usage: ${done.usage.input_tokens} tokens in, ${done.usage.output_tokens} out`),
  ];
}

/** A message fetched again after a reload: its context was not kept, so it shows alone. */
function pastMessage(message) {
  const role = message.role === "assistant" ? "assistant" : "user";
  const speaker = message.name || (role === "user" ? "you" : "assistant");
  return h(
    "li",
    { class: `chat-turn past ${role}` },
    h("div", { class: `bubble ${role}` }, h("span", { class: "speaker" }, speaker), h("div", { class: "text" }, message.content)),
  );
}

function build(user, budgets, flash) {
  const s = { user: user.id, conversationId: null, busy: false };
  const log = h("ol", { class: "chat-log", id: "chat-log", "aria-live": "polite" });
  const input = h("textarea", { id: "chat-input", rows: 2, placeholder: "Say something, or ask what it remembers…" });
  const send = h("button", { type: "submit", class: "primary", id: "chat-send" }, "Send");
  const fresh = h("button", { type: "button", class: "secondary", id: "chat-new" }, "New conversation");
  const conversationLine = h("p", { class: "muted", id: "chat-conversation" });
  const details = h("div", { id: "chat-context" }, h("p", { class: "muted" }, "The latest turn's context budgets and strategies show here."));
  const timings = h("div", { id: "chat-timings" }, h("p", { class: "muted" }, "Phase timings arrive with `done`."));

  const showConversation = () => {
    chatConversation(s.conversationId);
    replace(
      conversationLine,
      s.conversationId
        ? ["conversation ", h("a", { href: conversationHref(s.conversationId) }, s.conversationId)]
        : "Your next message starts a new conversation.",
    );
  };
  s.begin = (conversationId) => {
    s.conversationId = conversationId;
    clear(log);
    showConversation();
  };
  fresh.addEventListener("click", () => {
    if (s.busy) return;
    s.begin(null);
    input.focus();
  });

  s.said = (message) => log.append(pastMessage(message));

  const turn = async (content, messageId, item) => {
    s.busy = true;
    send.disabled = true;
    const answer = h("div", { class: "answer text", dataset: { tokens: 0 } });
    const used = h("div", { class: "turn-context" });
    const status = h("div", { class: "turn-status" });
    clear(item).append(
      h("div", { class: "bubble user" }, h("span", { class: "speaker" }, "you"), h("div", { class: "text" }, content)),
      h("div", { class: "bubble assistant" }, h("span", { class: "speaker" }, "assistant"), answer, status, used),
    );
    item.dataset.state = "streaming";
    const onEvent = (name, data) => {
      if (name === "conversation") {
        s.conversationId = data.id;
        showConversation();
      } else if (name === "context") {
        for (const open of log.querySelectorAll("details.used[open]")) open.open = false; // the latest stays open
        replace(used, usedMemories(data));
        replace(details, detailsView(data, budgets));
      } else if (name === "token") {
        answer.append(document.createTextNode(data.delta));
        answer.dataset.tokens = String(Number(answer.dataset.tokens) + 1);
      } else if (name === "done") {
        item.dataset.state = "done";
        replace(timings, timingsView(data));
      } else if (name === "error") {
        item.dataset.state = "error";
        throw new Error(`${data.code}: ${data.message}`);
      }
    };
    try {
      await streamTurn(content, s.conversationId, onEvent, { messageId });
      if (item.dataset.state === "streaming") throw new Error("the answer's stream ended early");
    } catch (error) {
      item.dataset.state = "error";
      const again = h("button", { type: "button", class: "secondary retry" }, "Send again");
      again.addEventListener("click", () => {
        if (!s.busy) turn(content, messageId, item).catch((e) => flash(e.message));
      });
      replace(status, h("p", { class: "problem" }, error.message), again);
      flash(error.message);
      if (!input.value) input.value = content; // to correct it, if the server refused it as it was
    } finally {
      s.busy = false;
      send.disabled = false;
    }
  };

  const submit = (event) => {
    event.preventDefault();
    const content = input.value.trim();
    if (!content || s.busy) return;
    input.value = "";
    const item = h("li", { class: "chat-turn", dataset: { state: "sending" } });
    log.append(item);
    item.scrollIntoView({ block: "nearest" });
    turn(content, newId(), item).catch((e) => flash(e.message));
  };
  input.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter starts a new line, as in every chat.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
  });

  s.view = h(
    "div",
    { class: "grid chat" },
    card(
      null,
      h("div", { class: "chat-head" }, conversationLine, fresh),
      log,
      h("form", { id: "chat-form", class: "composer", on: { submit } }, input, send),
    ),
    h("div", {}, card("Latest turn", details), card("Phase timings", timings)),
  );
  showConversation();
  return s;
}

/** The messages of a conversation the user comes back to (after a reload, or from its page). */
async function resume(s, conversationId, flash) {
  try {
    const detail = await api("GET", `/api/chat/conversations/${encodeURIComponent(conversationId)}?limit=200`);
    s.begin(detail.conversation.id);
    detail.messages.forEach(s.said);
  } catch (error) {
    s.begin(null);
    if (error.status !== 404) flash(error.message);
  }
}

export async function render(root, ctx) {
  const { budgets } = await api("GET", "/api/console/config");
  const fresh = !session || session.user !== ctx.user.id;
  // A conversation named in the route (from its page) is continued; after a reload, the one the tab had.
  const wanted = ctx.params[0] || (fresh ? chatConversation() : null);
  if (fresh) session = build(ctx.user, budgets, ctx.flash);
  root.append(h("h1", {}, "Chat playground"), session.view);
  if (wanted && wanted !== session.conversationId && !session.busy) await resume(session, wanted, ctx.flash);
}
