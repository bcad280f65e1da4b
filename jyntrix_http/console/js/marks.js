// How a memory stands, in the same words on every view: its kind, who said it (a turn), whether it is
// current or an earlier one (with the span it held), whether it answered the question, and when it happened.

import { badge, h, span } from "./dom.js";

export const KINDS = ["fact", "turn", "summary"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAY_MS = 86_400_000;

export function kindBadge(kind) {
  return kind ? badge(kind, `kind ${kind}`) : null;
}

/** "said by the user", "said by the assistant", or the speaker's name on the user's side of a group chat. */
export function saidBy(role, speaker) {
  if (!role) return null;
  const who = speaker || (role === "assistant" ? "the assistant" : "the user");
  return h("span", { class: `said-by ${role}`, dataset: { role } }, `said by ${who}`);
}

/** A memory that ended is shown as earlier, with the span it held; `always` marks a current one too. */
export function standing(memory, always = false) {
  if (memory.current === false) {
    const held = span(memory.valid_from, memory.valid_until);
    return h("span", { class: "badge earlier", title: "no longer current" }, `earlier · ${held}`);
  }
  return always ? badge("current", "current") : null;
}

/** Whether retrieval's signals said the memory answers the question, or it was placed as background. */
export function relevance(item) {
  if (item.relevant) return badge("relevant", "relevant");
  return h("span", { class: "badge background", title: "placed as background, not as an answer" }, "background");
}

/** When what a memory tells of happened, as said: a day, a month or a year (periods are whole UTC days). */
export function occurred(period) {
  const start = new Date(period?.start ?? NaN);
  if (Number.isNaN(start.getTime())) return null;
  const end = new Date(period.end);
  const length = end.getTime() - start.getTime();
  const utcDay = (d) => d.toISOString().slice(0, 10);
  let text = utcDay(start);
  if (length > 300 * DAY_MS) text = String(start.getUTCFullYear());
  else if (length > 25 * DAY_MS) text = `${MONTHS[start.getUTCMonth()]} ${start.getUTCFullYear()}`;
  else if (length > DAY_MS) text = `${utcDay(start)} → ${utcDay(new Date(end.getTime() - 1))}`;
  return h("span", { class: "occurred muted" }, `happened ${text}`);
}
