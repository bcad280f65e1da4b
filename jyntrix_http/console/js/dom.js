// Building the page without HTML strings: every piece of text becomes a text node, so memory content,
// messages and error details can never be parsed as markup (no string is ever handed to an HTML parser).

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "on") {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === "dataset") {
      for (const [name, v] of Object.entries(value)) el.dataset[name] = String(v);
    } else if (key === "text") {
      el.textContent = String(value);
    } else if (key === "value" && "value" in el) {
      el.value = value;
    } else if (key === "checked" || key === "disabled" || key === "selected") {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element: h("a", {href: "#/x", class: "link"}, "text", otherNode). Strings are text, never markup. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** An SVG element, the same way. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

/** "2025-01-05 14:03" in the browser's time zone; "—" for nothing. */
export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "2025-01-05", the day in the browser's time zone; "—" for nothing. */
export function day(iso) {
  return iso ? when(iso).slice(0, 10) : "—";
}

/** When a memory held: "2024-03-01 → 2025-01-05", or "since 2024-03-01" while it still does. */
export function span(from, until) {
  return until ? `${day(from)} → ${day(until)}` : `since ${day(from)}`;
}

export function num(value, digits = 3) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "—";
}

export function ms(value) {
  if (typeof value !== "number") return "—";
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

/** A memory id route: ids are URI-encoded so that any id is one path segment of the hash. */
export function memoryHref(id) {
  return `#/memory/${encodeURIComponent(id)}`;
}

export function conversationHref(conversationId, messageId) {
  const base = `#/conversation/${encodeURIComponent(conversationId)}`;
  return messageId ? `${base}/${encodeURIComponent(messageId)}` : base;
}

/** A form whose submission runs `submit(event)` in the page rather than loading another one. */
export function form(attrs, submit, ...children) {
  const onSubmit = (event) => {
    event.preventDefault();
    return submit(event);
  };
  return h("form", { ...attrs, on: { submit: onSubmit } }, ...children);
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}

export function field(label, control, hint) {
  return h("label", { class: "field" }, h("span", { class: "label" }, label), control, hint ? h("small", {}, hint) : null);
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}`.trim() }, text);
}
