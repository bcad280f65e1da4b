// Memories: filters (type, kind, earlier ones too, dates, text), pages, counts by type, and the imports.

import { api, query } from "../api.js";
import { badge, card, conversationHref, field, h, memoryHref, num, replace, when } from "../dom.js";
import { KINDS, kindBadge, occurred, saidBy, standing } from "../marks.js";
import { transcriptImportCard } from "./transcript_import.js";

export const TYPES = ["profile", "semantic", "episodic", "procedural"];
const PAGE = 20;

// Kept for the tab's life, so that coming back from a memory shows the same page.
const state = { type: "", kind: "", current_only: true, created_after: "", created_before: "", contains: "", offset: 0 };

function dayStart(date, endOfDay = false) {
  if (!date) return undefined;
  return new Date(`${date}T${endOfDay ? "23:59:59.999" : "00:00:00"}`).toISOString();
}

function filterParams(type) {
  return {
    type: type || undefined,
    kind: state.kind || undefined,
    current_only: state.current_only,
    created_after: dayStart(state.created_after),
    created_before: dayStart(state.created_before, true),
    contains: state.contains.trim() || undefined,
  };
}

// Paging does not change the counts: they are fetched again only when the filters do (requests are rate-limited).
let cachedCounts = { key: null, value: null };

async function counts() {
  const key = JSON.stringify(filterParams(""));
  if (cachedCounts.key === key) return cachedCounts.value;
  const found = await Promise.all(
    TYPES.map((type) => api("GET", `/api/memories${query({ ...filterParams(type), limit: 1 })}`)),
  );
  cachedCounts = { key, value: Object.fromEntries(TYPES.map((type, i) => [type, found[i].total])) };
  return cachedCounts.value;
}

function row(memory) {
  const place = memory.place;
  const role = memory.kind === "turn" && place ? place.role : null;
  const meta = [
    standing(memory),
    saidBy(role, place?.speaker),
    place?.conversation_id
      ? h("a", { href: conversationHref(place.conversation_id, place.message_id), class: "place-link" }, "in its conversation")
      : null,
    occurred(memory.occurred),
  ].filter(Boolean);
  return h(
    "tr",
    {
      class: `memory-row${memory.current === false ? " earlier" : ""}`,
      dataset: { memoryId: memory.id, type: memory.type, kind: memory.kind, current: memory.current !== false, role: role || "" },
    },
    h("td", { class: "badges" }, badge(memory.type, memory.type), kindBadge(memory.kind)),
    h(
      "td",
      { class: "content" },
      h("a", { href: memoryHref(memory.id), class: "memory-link" }, memory.content),
      meta.length ? h("div", { class: "memory-meta" }, meta) : null,
    ),
    h("td", { class: "n", title: "reliability" }, num(memory.reliability, 2)),
    h("td", { class: "nowrap created" }, when(memory.created_at)),
  );
}

function importCard(reload, flash) {
  const text = h("textarea", {
    id: "import-json",
    rows: 6,
    spellcheck: "false",
    placeholder: '[{"content": "Alice lives in Lisbon", "type": "semantic", "created_at": "2025-01-05T10:00:00Z"}]',
  });
  const file = h("input", { type: "file", accept: "application/json,.json", id: "import-file" });
  file.addEventListener("change", async () => {
    if (file.files.length) text.value = await file.files[0].text();
  });
  const submit = async (event) => {
    event.preventDefault();
    let parsed;
    try {
      parsed = JSON.parse(text.value);
    } catch (error) {
      flash(`Not JSON: ${error.message}`);
      return;
    }
    const memories = Array.isArray(parsed) ? parsed : parsed.memories;
    if (!Array.isArray(memories)) return flash("Give a list of memories, or {\"memories\": [...]}.");
    try {
      const result = await api("POST", "/api/memories/import", { memories });
      text.value = "";
      flash(`Imported ${result.imported} memories.`, "notice");
      state.offset = 0;
      cachedCounts = { key: null, value: null };
      await reload();
    } catch (error) {
      flash(error.message);
    }
  };
  return h(
    "details",
    { class: "card import" },
    h("summary", {}, "Import memories"),
    h(
      "form",
      { id: "import-form", on: { submit } },
      field("JSON", text, "A list of memories as POST /api/memories/import takes them, or an export's list."),
      h("div", { class: "row" }, file, h("button", { type: "submit", class: "primary" }, "Import")),
    ),
  );
}

export async function render(root, ctx) {
  cachedCounts = { key: null, value: null }; // memories may have changed since the list was last shown
  const typeSelect = h(
    "select",
    { id: "filter-type" },
    h("option", { value: "" }, "all types"),
    TYPES.map((type) => h("option", { value: type, selected: state.type === type }, type)),
  );
  const kindSelect = h(
    "select",
    { id: "filter-kind" },
    h("option", { value: "" }, "all kinds"),
    KINDS.map((kind) => h("option", { value: kind, selected: state.kind === kind }, `${kind}s`)),
  );
  const earlier = h("input", { id: "filter-earlier", type: "checkbox", checked: !state.current_only });
  const after = h("input", { id: "filter-after", type: "date", value: state.created_after });
  const before = h("input", { id: "filter-before", type: "date", value: state.created_before });
  const contains = h("input", {
    id: "filter-text",
    type: "search",
    value: state.contains,
    placeholder: "text contains…",
    maxlength: 200,
  });
  const countsBox = h("div", { class: "counts", id: "type-counts" });
  const table = h("tbody", { id: "memory-rows" });
  const pager = h("div", { class: "pager", id: "pager" });

  let latest = 0;
  const load = async () => {
    const mine = ++latest;
    table.dataset.loading = "yes";
    // The page and the counts are shown together, so that they always describe the same filters.
    const [page, byType] = await Promise.all([
      api("GET", `/api/memories${query({ ...filterParams(state.type), limit: PAGE, offset: state.offset })}`),
      counts(),
    ]);
    if (mine !== latest) return; // filters changed while this page was on its way: a newer load shows
    replace(
      table,
      page.items.length
        ? page.items.map(row)
        : h("tr", {}, h("td", { colspan: 4, class: "empty" }, "No memories match these filters.")),
    );
    const first = page.total ? page.offset + 1 : 0;
    const last = page.offset + page.items.length;
    const prev = h("button", { type: "button", id: "page-prev", disabled: page.offset === 0 }, "← Newer");
    const next = h("button", { type: "button", id: "page-next", disabled: last >= page.total }, "Older →");
    prev.addEventListener("click", () => {
      state.offset = Math.max(0, state.offset - PAGE);
      load().catch((e) => ctx.flash(e.message));
    });
    next.addEventListener("click", () => {
      state.offset += PAGE;
      load().catch((e) => ctx.flash(e.message));
    });
    replace(pager, prev, h("span", { id: "page-info" }, `${first}–${last} of ${page.total}`), next);
    replace(
      countsBox,
      TYPES.map((type) =>
        h(
          "button",
          {
            type: "button",
            class: `count ${type}${state.type === type ? " active" : ""}`,
            dataset: { type, count: byType[type] },
            on: {
              click: () => {
                state.type = state.type === type ? "" : type;
                typeSelect.value = state.type;
                state.offset = 0;
                load().catch((e) => ctx.flash(e.message));
              },
            },
          },
          h("span", { class: "count-n" }, String(byType[type])),
          ` ${type}`,
        ),
      ),
    );
    table.dataset.loading = "no";
  };

  const apply = (event) => {
    event?.preventDefault();
    Object.assign(state, {
      type: typeSelect.value,
      kind: kindSelect.value,
      current_only: !earlier.checked,
      created_after: after.value,
      created_before: before.value,
      contains: contains.value,
      offset: 0,
    });
    load().catch((e) => ctx.flash(e.message));
  };
  for (const control of [typeSelect, kindSelect, earlier, after, before]) control.addEventListener("change", apply);

  root.append(
    h("div", { class: "title-row" }, h("h1", {}, "Memories"), countsBox),
    card(
      null,
      h(
        "form",
        { id: "filters", class: "filters", on: { submit: apply } },
        field("Type", typeSelect),
        field("Kind", kindSelect),
        field("Created after", after),
        field("Created before", before),
        field("Text", contains),
        h("label", { class: "check" }, earlier, " show earlier memories"),
        h("button", { type: "submit", class: "primary" }, "Filter"),
      ),
      h(
        "table",
        { class: "list reflow memories" },
        h("thead", {}, h("tr", {}, h("th", {}, "type"), h("th", {}, "content"), h("th", { class: "n" }, "reliability"), h("th", {}, "created"))),
        table,
      ),
      pager,
    ),
    importCard(load, ctx.flash),
    transcriptImportCard(async () => {
      state.offset = 0;
      cachedCounts = { key: null, value: null };
      await load();
    }, ctx.flash),
  );
  await load();
}
