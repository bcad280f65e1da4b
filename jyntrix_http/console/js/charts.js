// Hand-drawn SVG charts: score bars, token budgets, latency and rate charts, and the validity timeline.
// Geometry goes in SVG attributes (never style attributes), so the strict CSP holds.

import { h, num, s, when } from "./dom.js";

function clamp01(value) {
  return Math.max(0, Math.min(1, Number(value) || 0));
}

/** A small bar: the signal's value in light, what it contributed in dark, over a 0..1 track. */
export function signalBar(signal, contribution, width = 140) {
  const height = 10;
  return s(
    "svg",
    { class: "signal-bar", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-hidden": "true" },
    s("rect", { class: "track", x: 0, y: 0, width, height, rx: 3 }),
    s("rect", { class: "signal", x: 0, y: 0, width: (clamp01(signal) * width).toFixed(2), height, rx: 3 }),
    s("rect", { class: "contribution", x: 0, y: 0, width: (clamp01(contribution) * width).toFixed(2), height, rx: 3 }),
  );
}

/**
 * The per-signal breakdown of one score, one row per signal in the order the API sent them, so a signal the
 * ranker adds later shows up without a change here.
 */
export function scoreTable(scores) {
  const names = Object.keys(scores.signals || {});
  for (const name of Object.keys(scores.weights || {})) if (!names.includes(name)) names.push(name);
  const rows = names.map((name) => {
    const signal = scores.signals?.[name] ?? 0;
    const weight = scores.weights?.[name] ?? 0;
    const contribution = scores.contributions?.[name] ?? signal * weight;
    return h(
      "tr",
      { class: "signal-row", dataset: { signal: name, value: signal, weight, contribution } },
      h("th", { scope: "row" }, name),
      h("td", {}, signalBar(signal, contribution)),
      h("td", { class: "n", title: "signal" }, num(signal)),
      h("td", { class: "n muted", title: "weight" }, `× ${num(weight, 2)}`),
      h("td", { class: "n strong", title: "contribution" }, `= ${num(contribution)}`),
    );
  });
  return h(
    "table",
    { class: "scores" },
    h(
      "thead",
      {},
      h("tr", {}, h("th", {}, "signal"), h("th", {}, ""), h("th", {}, "value"), h("th", {}, "weight"), h("th", {}, "adds")),
    ),
    h("tbody", {}, rows),
  );
}

/** Used tokens against a budget, as a bar that turns amber past 90%. */
export function budgetBar(used, budget, width = 220) {
  const height = 12;
  const share = budget > 0 ? used / budget : used > 0 ? 1 : 0;
  return s(
    "svg",
    { class: "budget-bar", width, height, viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true" },
    s("rect", { class: "track", x: 0, y: 0, width, height, rx: 3 }),
    s("rect", {
      class: share > 0.9 ? "used warn" : "used",
      x: 0,
      y: 0,
      width: (clamp01(share) * width).toFixed(2),
      height,
      rx: 3,
    }),
  );
}

/** On a phone, bar charts drawn to the screen's width (scaled down instead, their labels would be too small to read). */
export function phoneBars() {
  return window.matchMedia("(max-width: 640px)").matches ? { labelWidth: 120, barArea: 130 } : {};
}

/**
 * Horizontal grouped bars: rows [{label, values: {series: number}}], one bar per series, scaled to the largest
 * value. `format` labels each bar.
 */
export function groupedBars(rows, series, { format = (v) => num(v, 1), max = null, title = "", barArea = 380, labelWidth = 150 } = {}) {
  const barHeight = 12;
  const gap = 4;
  const rowHeight = series.length * (barHeight + gap) + 10;
  const top = series.length > 1 ? 22 : 4;
  const width = labelWidth + barArea + 80;
  const height = top + Math.max(rows.length, 1) * rowHeight;
  const largest = max ?? Math.max(1e-9, ...rows.flatMap((r) => series.map((name) => r.values[name] || 0)));
  const svg = s("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  if (title) svg.append(s("title", {}, title));
  series.forEach((name, i) => {
    if (series.length === 1) return;
    const x = labelWidth + i * 90;
    svg.append(
      s("rect", { class: `series-${i}`, x, y: 4, width: 10, height: 10, rx: 2 }),
      s("text", { class: "legend", x: x + 14, y: 13 }, name),
    );
  });
  if (!rows.length) svg.append(s("text", { class: "empty", x: labelWidth, y: top + 16 }, "no data in this window"));
  rows.forEach((row, r) => {
    const y0 = top + r * rowHeight;
    svg.append(s("text", { class: "label", x: labelWidth - 8, y: y0 + rowHeight / 2, "text-anchor": "end" }, row.label));
    series.forEach((name, i) => {
      const value = row.values[name] || 0;
      const y = y0 + i * (barHeight + gap);
      const w = Math.max(1, (value / largest) * barArea);
      const bar = s("rect", { class: `series-${i}`, x: labelWidth, y, width: w.toFixed(2), height: barHeight, rx: 2 });
      bar.dataset.series = name;
      bar.dataset.value = String(value);
      bar.dataset.row = row.label;
      svg.append(bar, s("text", { class: "value", x: labelWidth + w + 6, y: y + barHeight - 2 }, format(value)));
    });
  });
  return svg;
}

/**
 * The validity timeline of a supersession chain: one lane per version, from valid_from to valid_until (or now),
 * oldest at the top, the current version highlighted.
 */
export function timeline(chain, currentId) {
  const now = Date.now();
  const starts = chain.map((m) => Date.parse(m.valid_from));
  const ends = chain.map((m) => (m.valid_until ? Date.parse(m.valid_until) : now));
  const t0 = Math.min(...starts);
  const t1 = Math.max(...ends, t0 + 1);
  const phone = window.matchMedia("(max-width: 640px)").matches; // drawn to fit, rather than scaled down unreadably
  const labelWidth = phone ? 76 : 120;
  const area = phone ? 230 : 520;
  const lane = 26;
  const width = labelWidth + area + 20;
  const height = 30 + chain.length * lane;
  const x = (t) => labelWidth + ((t - t0) / (t1 - t0)) * area;
  const svg = s("svg", { class: "timeline", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  svg.append(s("title", {}, "validity of each version"));
  svg.append(
    s("line", { class: "axis", x1: labelWidth, y1: height - 18, x2: labelWidth + area, y2: height - 18 }),
    s("text", { class: "tick", x: labelWidth, y: height - 4 }, when(new Date(t0).toISOString())),
    s("text", { class: "tick", x: labelWidth + area, y: height - 4, "text-anchor": "end" }, chain.some((m) => !m.valid_until) ? "now" : when(new Date(t1).toISOString())),
  );
  chain.forEach((memory, i) => {
    const y = 6 + i * lane;
    const x0 = x(starts[i]);
    const w = Math.max(3, x(ends[i]) - x0);
    const bar = s("rect", {
      class: memory.id === currentId ? "version selected" : memory.valid_until ? "version past" : "version current",
      x: x0.toFixed(2),
      y,
      width: w.toFixed(2),
      height: 16,
      rx: 4,
    });
    bar.dataset.memoryId = memory.id;
    bar.append(s("title", {}, `${when(memory.valid_from)} → ${memory.valid_until ? when(memory.valid_until) : "now"}`));
    svg.append(s("text", { class: "label", x: labelWidth - 8, y: y + 12, "text-anchor": "end" }, `v${i + 1}${memory.valid_until ? "" : " (current)"}`), bar);
  });
  return svg;
}
