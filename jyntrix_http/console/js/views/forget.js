// Forget me: download an export, delete everything behind a typed confirmation, then show that it is gone.

import { api, download, query } from "../api.js";
import { card, field, form, h, replace } from "../dom.js";

const CONFIRMATION = "forget me";
const PROBE_QUERY = "what do you remember about me";

async function verify() {
  const [searched, listed, exported] = await Promise.all([
    api("POST", "/api/memories/search", { query: PROBE_QUERY, limit: 10 }),
    api("GET", `/api/memories${query({ current_only: false, limit: 1 })}`),
    api("GET", "/api/memories/export"),
  ]);
  return [
    ["search", searched.results.length, "results"],
    ["list", listed.total, "memories"],
    ["export", exported.memories.length, "memories"],
    ["export", exported.relations.length + exported.entities.length, "entities and relations"],
  ];
}

function verification(rows) {
  return h(
    "table",
    { class: "list", id: "verification" },
    h(
      "tbody",
      {},
      rows.map(([what, n, unit]) =>
        h(
          "tr",
          { class: n === 0 ? "ok" : "bad", dataset: { check: what, count: n } },
          h("th", { scope: "row" }, what),
          h("td", {}, `${n} ${unit}`),
          h("td", {}, n === 0 ? "✓ empty" : "✗ not empty"),
        ),
      ),
    ),
  );
}

export async function render(root, ctx) {
  const exportButton = h("button", { type: "button", id: "export", class: "secondary" }, "Download my export (JSON)");
  exportButton.addEventListener("click", async () => {
    try {
      const { blob, filename } = await download("/api/memories/export");
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: filename, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      ctx.flash(error.message);
    }
  });

  const typed = h("input", { id: "confirm-text", type: "text", autocomplete: "off", placeholder: CONFIRMATION });
  const erase = h("button", { type: "submit", id: "delete-all", class: "danger", disabled: true }, "Delete everything");
  typed.addEventListener("input", () => {
    erase.disabled = typed.value.trim().toLowerCase() !== CONFIRMATION;
  });
  const outcome = h("div", { id: "forget-outcome" });
  const confirmed = form(
    { id: "forget-form" },
    async () => {
      if (typed.value.trim().toLowerCase() !== CONFIRMATION) return;
      erase.disabled = true;
      try {
        const result = await api("DELETE", `/api/memories${query({ confirm: true })}`);
        typed.value = "";
        replace(
          outcome,
          h("p", { class: "notice", id: "deleted-counts" }, `Deleted ${result.memories} memories and ${result.conversations} conversations.`),
          h("h3", {}, "Checked afterwards"),
          verification(await verify()),
        );
      } catch (error) {
        ctx.flash(error.message);
      }
    },
    field(`Type “${CONFIRMATION}” to confirm`, typed),
    erase,
  );

  root.append(
    h("h1", {}, "Forget me"),
    card("Export", h("p", { class: "muted" }, "Everything remembered about you: memories, their history, entities, relations and profile."), exportButton),
    card(
      "Delete everything",
      h("p", {}, `This deletes every memory, its history, the indexes, the entity graph, every conversation and the profile of ${ctx.user.id}. It cannot be undone.`),
      confirmed,
      outcome,
    ),
  );
}
