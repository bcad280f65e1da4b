// Search: each result with its signals as bars, their weights and contributions — why it ranked where it did.

import { api } from "../api.js";
import { scoreTable } from "../charts.js";
import { badge, card, field, form, h, memoryHref, num, replace, when } from "../dom.js";
import { kindBadge, saidBy, standing } from "../marks.js";
import { TYPES } from "./memories.js";

let last = { query: "", limit: 10, type: "" };

function result(item, rank) {
  return h(
    "li",
    { class: "result", dataset: { memoryId: item.memory.id, score: item.score, current: item.current !== false } },
    h(
      "div",
      { class: "result-head" },
      h("span", { class: "rank" }, `#${rank}`),
      h("a", { href: memoryHref(item.memory.id), class: "result-content" }, item.memory.content),
      h("span", { class: "score", title: "total score" }, num(item.score)),
    ),
    h(
      "div",
      { class: "result-meta memory-meta" },
      badge(item.memory.type, item.memory.type),
      kindBadge(item.memory.kind),
      standing(item),
      saidBy(item.memory.kind === "turn" ? item.memory.place?.role : null, item.memory.place?.speaker),
      item.match_types.map((t) => badge(t, "match")),
      h("span", { class: "muted" }, ` ${when(item.memory.created_at)}`),
    ),
    scoreTable(item.scores),
    item.scores.adjusted_by ? h("p", { class: "muted adjustment" }, `+ ${num(item.scores.adjustment)} (${item.scores.adjusted_by})`) : null,
  );
}

export async function render(root, ctx) {
  const input = h("input", { id: "search-query", type: "search", value: last.query, placeholder: "Ask what is remembered…", maxlength: 4000 });
  const limit = h("input", { id: "search-limit", type: "number", min: 1, max: 100, value: last.limit });
  const type = h("select", { id: "search-type" }, h("option", { value: "" }, "all types"), TYPES.map((t) => h("option", { value: t, selected: last.type === t }, t)));
  const results = h("ol", { class: "results", id: "results" });
  const summary = h("p", { class: "muted", id: "search-summary" });

  let latest = 0;
  const run = async () => {
    const mine = ++latest;
    last = { query: input.value, limit: Number(limit.value) || 10, type: type.value };
    if (!last.query.trim()) return;
    const body = { query: last.query, limit: last.limit };
    if (last.type) body.types = [last.type];
    const found = await api("POST", "/api/memories/search", body);
    if (mine !== latest) return; // a newer search is on its way
    summary.textContent = `${found.results.length} results for “${found.query}”`;
    replace(results, found.results.map((item, i) => result(item, i + 1)));
  };

  root.append(
    h("h1", {}, "Search"),
    card(
      null,
      form(
        { id: "search-form", class: "filters" },
        () => {
          run().catch((e) => ctx.flash(e.message));
        },
        h("div", { class: "grow" }, field("Query", input)),
        field("Type", type),
        field("Limit", limit),
        h("button", { type: "submit", class: "primary" }, "Search"),
      ),
      h(
        "p",
        { class: "legend-line muted" },
        "Each bar: the signal's value (light) and what it added to the score (dark) = value × weight.",
      ),
    ),
    summary,
    results,
  );
  if (last.query) await run();
}
