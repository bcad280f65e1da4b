// Analytics: phase and strategy latency (p50/p95) and strategy hit and failure rates, for a chosen window.

import { api, query } from "../api.js";
import { groupedBars, phoneBars } from "../charts.js";
import { card, h, ms, replace } from "../dom.js";

const WINDOWS = { hour: 3600e3, day: 86400e3, week: 7 * 86400e3 };
let chosen = "day";

function latencyRows(stats) {
  return stats.map((st) => ({ label: st.name, values: { p50: st.p50_ms, p95: st.p95_ms } }));
}

export async function render(root, ctx) {
  const body = h("div", { id: "analytics-body" });
  const buttons = Object.keys(WINDOWS).map((name) =>
    h("button", { type: "button", class: name === chosen ? "tab active" : "tab", dataset: { window: name } }, `last ${name}`),
  );
  const load = async () => {
    for (const b of buttons) b.classList.toggle("active", b.dataset.window === chosen);
    const until = new Date();
    const since = new Date(until.getTime() - WINDOWS[chosen]);
    const params = query({ since: since.toISOString(), until: until.toISOString() });
    const [latency, strategies, usage] = await Promise.all([
      api("GET", `/api/v1/analytics/latency${params}`),
      api("GET", `/api/v1/analytics/strategies${params}`),
      api("GET", `/api/v1/analytics/usage${params}`),
    ]);
    const rates = strategies.strategies.map((st) => ({
      label: `${st.name} (${st.runs})`,
      values: { hit: st.hit_rate * 100, failure: st.failure_rate * 100 },
    }));
    const u = usage.usage;
    replace(
      body,
      h(
        "div",
        { class: "stats" },
        [
          ["chat turns", u.turns],
          ["input tokens", u.input_tokens],
          ["output tokens", u.output_tokens],
        ].map(([label, value]) => h("div", { class: "stat" }, h("span", { class: "stat-n" }, String(value)), h("span", { class: "muted" }, label))),
      ),
      card("Phase latency", h("div", { id: "chart-phases" }, groupedBars(latencyRows(latency.phases), ["p50", "p95"], { format: ms, title: "phase latency", ...phoneBars() }))),
      card("Strategy latency", h("div", { id: "chart-strategies" }, groupedBars(latencyRows(latency.strategies), ["p50", "p95"], { format: ms, title: "strategy latency", ...phoneBars() }))),
      card(
        "Strategy hit and failure rates",
        h("div", { id: "chart-rates" }, groupedBars(rates, ["hit", "failure"], { format: (v) => `${v.toFixed(0)}%`, max: 100, title: "strategy rates", ...phoneBars() })),
      ),
    );
  };
  for (const b of buttons) {
    b.addEventListener("click", () => {
      chosen = b.dataset.window;
      load().catch((e) => ctx.flash(e.message));
    });
  }
  root.append(h("div", { class: "title-row" }, h("h1", {}, "Analytics"), h("div", { class: "tabs", id: "windows" }, buttons)), body);
  await load();
}
