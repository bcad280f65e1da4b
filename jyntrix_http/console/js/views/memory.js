// One memory: its fields, supersession chain and timeline, history, sources, entities and relations,
// and the forms to edit, supersede or delete it.

import { api, query } from "../api.js";
import { timeline } from "../charts.js";
import { badge, card, conversationHref, field, form, h, memoryHref, num, when } from "../dom.js";
import { kindBadge, occurred, saidBy } from "../marks.js";
import { TYPES } from "./memories.js";

// Predecessors have no link back, so they are found among the memories that are no longer current.
const SCAN_PAGE = 500;
const SCAN_LIMIT = 5000;

async function predecessorsOf(id) {
  const past = new Map();
  for (let offset = 0; offset < SCAN_LIMIT; offset += SCAN_PAGE) {
    const page = await api("GET", `/api/memories${query({ current_only: false, limit: SCAN_PAGE, offset })}`);
    for (const m of page.items) if (m.superseded_by) past.set(m.superseded_by, m);
    if (offset + page.items.length >= page.total) break;
  }
  const chain = [];
  let cursor = past.get(id);
  while (cursor && !chain.some((m) => m.id === cursor.id)) {
    chain.unshift(cursor);
    cursor = past.get(cursor.id);
  }
  return chain;
}

async function successorsOf(memory) {
  const chain = [];
  let cursor = memory;
  while (cursor.superseded_by && chain.length < 50) {
    cursor = await api("GET", `/api/memories/${encodeURIComponent(cursor.superseded_by)}`);
    chain.push(cursor);
  }
  return chain;
}

function facts(memory) {
  const rows = [
    ["type", badge(memory.type, memory.type)],
    ["kind", kindBadge(memory.kind) || "—"],
    ["reliability", num(memory.reliability, 2)],
    ["created", when(memory.created_at)],
    ["updated", when(memory.updated_at)],
    ["valid from", when(memory.valid_from)],
    ["valid until", memory.valid_until ? when(memory.valid_until) : "current"],
    ["accessed", `${memory.access_count} times${memory.last_accessed_at ? `, last ${when(memory.last_accessed_at)}` : ""}`],
    ["id", h("code", {}, memory.id)],
  ];
  if (memory.slot) rows.push(["slot", `${memory.slot} = ${memory.value ?? ""}`]);
  const place = memory.place;
  if (place?.conversation_id) {
    const who = memory.kind === "turn" ? saidBy(place.role, place.speaker) : null;
    const link = h("a", { href: conversationHref(place.conversation_id, place.message_id), id: "memory-place" }, "in its conversation");
    rows.push(["said", h("span", { class: "memory-meta" }, who, link)]);
  }
  if (memory.occurred) rows.push(["happened", occurred(memory.occurred)]);
  return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function chainCard(chain, memory, histories) {
  const items = chain.map((m, i) =>
    h(
      "li",
      { class: m.id === memory.id ? "version selected" : "version", dataset: { memoryId: m.id } },
      h("span", { class: "muted" }, `v${i + 1} `),
      m.id === memory.id ? h("strong", {}, m.content) : h("a", { href: memoryHref(m.id) }, m.content),
      h("span", { class: "muted" }, ` · ${when(m.valid_from)} → ${m.valid_until ? when(m.valid_until) : "now"}`),
      h(
        "ul",
        { class: "changes" },
        (histories.get(m.id) || []).map((c) =>
          h(
            "li",
            { class: "change", dataset: { kind: c.kind } },
            badge(c.kind, c.kind),
            ` ${when(c.at)}`,
            c.kind === "update" && c.content_before != null
              ? h("span", { class: "muted" }, ` “${c.content_before}” → “${c.content_after}”`)
              : null,
          ),
        ),
      ),
    ),
  );
  return card("History", timeline(chain, memory.id), h("ol", { class: "chain", id: "chain" }, items));
}

async function sourcesCard(memory) {
  const ids = memory.source_message_ids || [];
  if (!ids.length) return card("Source messages", h("p", { class: "muted" }, "No source messages (added directly)."));
  const found = await Promise.all(
    ids.map((id) => api("GET", `/api/chat/messages/${encodeURIComponent(id)}`).catch(() => ({ id, missing: true }))),
  );
  return card(
    "Source messages",
    h(
      "ul",
      { class: "sources", id: "sources" },
      found.map((m) =>
        m.missing
          ? h("li", { class: "muted" }, `message ${m.id} (deleted)`)
          : h(
              "li",
              {},
              badge(m.role),
              " ",
              h("a", { href: conversationHref(m.conversation_id, m.id), class: "source-link" }, m.content),
              h("span", { class: "muted" }, ` · ${when(m.created_at)}`),
            ),
      ),
    ),
  );
}

function graphCard(memory) {
  const relations = memory.relations || [];
  return card(
    "Entities and relations",
    memory.entities.length
      ? h("div", { class: "chips", id: "entities" }, memory.entities.map((e) => badge(e, "entity")))
      : h("p", { class: "muted" }, "No entities."),
    relations.length
      ? h(
          "ul",
          { class: "relations", id: "relations" },
          relations.map((r) => h("li", {}, h("strong", {}, r.source), ` ${r.predicate} `, h("strong", {}, r.target))),
        )
      : null,
    Object.keys(memory.metadata || {}).length
      ? h("pre", { class: "metadata" }, JSON.stringify(memory.metadata, null, 2))
      : null,
  );
}

function actionsCard(memory, ctx) {
  const content = h("textarea", { id: "edit-content", rows: 3, value: memory.content });
  const type = h("select", { id: "edit-type" }, TYPES.map((t) => h("option", { value: t, selected: t === memory.type }, t)));
  const reliability = h("input", { id: "edit-reliability", type: "number", min: 0, max: 1, step: 0.05, value: memory.reliability });
  const edit = form(
    { id: "edit-form" },
    async () => {
      const body = { content: content.value, type: type.value, reliability: Number(reliability.value) };
      await api("PATCH", `/api/memories/${encodeURIComponent(memory.id)}`, body)
        .then(() => ctx.navigate(memoryHref(memory.id)))
        .catch((e) => ctx.flash(e.message));
    },
    field("Content", content),
    h("div", { class: "row" }, field("Type", type), field("Reliability", reliability)),
    h("button", { type: "submit", class: "primary" }, "Save changes"),
  );
  const newer = h("textarea", { id: "supersede-content", rows: 2, placeholder: "What is true now…" });
  const supersede = form(
    { id: "supersede-form" },
    async () => {
      const body = { content: newer.value, type: memory.type, reliability: memory.reliability, entities: memory.entities };
      await api("POST", `/api/memories/${encodeURIComponent(memory.id)}/supersede`, body)
        .then((successor) => ctx.navigate(memoryHref(successor.id)))
        .catch((e) => ctx.flash(e.message));
    },
    field("Supersede with", newer, "The old version keeps its history and ends now."),
    h("button", { type: "submit", class: "secondary" }, "Supersede"),
  );
  const remove = h("button", { type: "button", id: "delete-memory", class: "danger" }, "Delete");
  remove.addEventListener("click", async () => {
    if (remove.dataset.armed !== "yes") {
      remove.dataset.armed = "yes";
      remove.textContent = "Click again to delete for good";
      return;
    }
    await api("DELETE", `/api/memories/${encodeURIComponent(memory.id)}`)
      .then(() => ctx.navigate("#/memories"))
      .catch((e) => ctx.flash(e.message));
  });
  const current = !memory.valid_until && !memory.superseded_by;
  if (!current) {
    const note = h("p", { class: "muted", id: "not-current" }, "This version was superseded: edit or supersede the current one.");
    return card("Correct it", note, h("div", { class: "row end" }, remove));
  }
  return card("Correct it", edit, supersede, h("div", { class: "row end" }, remove));
}

export async function render(root, ctx) {
  const id = ctx.params[0];
  const memory = await api("GET", `/api/memories/${encodeURIComponent(id)}`);
  const chain = [...(await predecessorsOf(memory.id)), memory, ...(await successorsOf(memory))];
  const histories = new Map(
    await Promise.all(
      chain.map(async (m) => [m.id, (await api("GET", `/api/memories/${encodeURIComponent(m.id)}/history`)).changes]),
    ),
  );
  root.append(
    h("p", {}, h("a", { href: "#/memories" }, "← Memories")),
    h("h1", { class: "memory-title", id: "memory-content" }, memory.content),
    h("div", { class: "grid two" }, card("Details", facts(memory)), graphCard(memory)),
    chainCard(chain, memory, histories),
    await sourcesCard(memory),
    actionsCard(memory, ctx),
  );
}
