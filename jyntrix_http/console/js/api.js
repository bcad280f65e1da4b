// The API, as the signed-in user. The token lives in this tab's sessionStorage only (beside the chat's running
// conversation id) and leaves the page only in the Authorization header of same-origin requests; it is never put
// in a URL, a cookie or persistent storage.

const TOKEN_KEY = "jyntrix.console.token";
const CONVERSATION_KEY = "jyntrix.console.conversation";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value.trim());
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(CONVERSATION_KEY);
}

/** The chat's running conversation, kept for the tab so that a reload continues it: get it, or set it (null ends it). */
export function chatConversation(...set) {
  if (!set.length) return sessionStorage.getItem(CONVERSATION_KEY);
  if (set[0]) sessionStorage.setItem(CONVERSATION_KEY, set[0]);
  else sessionStorage.removeItem(CONVERSATION_KEY);
  return set[0];
}

/** An error answer: `problem` is the RFC 9457 document when the server sent one. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter = null) {
    const detail = problem && (problem.detail || problem.title);
    // A 422's detail names only the route; which field failed, and why, is in its `errors`.
    const fields = (problem?.errors || []).slice(0, 3).map((e) => (e.key ? `${e.key}: ${e.message}` : e.message));
    const text = [detail, ...fields].filter(Boolean).join(" — ");
    super(text ? `${status}: ${text}` : `request failed with status ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

function headers(extra = {}) {
  const result = { Accept: "application/json", ...extra };
  const current = token();
  if (current) result.Authorization = `Bearer ${current}`;
  return result;
}

async function failure(response) {
  let problem = null;
  try {
    problem = await response.json();
  } catch {
    problem = null;
  }
  if (response.status === 401) window.dispatchEvent(new CustomEvent("jyntrix:unauthorized"));
  const retryAfter = Number(response.headers.get("Retry-After") ?? problem?.retry_after_s ?? NaN);
  return new ApiError(response.status, problem, Number.isFinite(retryAfter) ? retryAfter : null);
}

/** A JSON request; resolves to the decoded body (null for 204), rejects with ApiError. */
export async function api(method, path, body) {
  const init = { method, headers: headers(), credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return null;
  return response.json();
}

/** A GET that keeps the response, for downloads: resolves to {blob, filename}. */
export async function download(path) {
  const response = await fetch(path, { headers: headers(), credentials: "omit", cache: "no-store" });
  if (!response.ok) throw await failure(response);
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  return { blob: await response.blob(), filename: match ? match[1] : "jyntrix-export.json" };
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, String(item));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Parses one SSE frame ("event: x\ndata: {...}") into {event, data, id}; null when it carries no data. */
export function parseFrame(frame) {
  let event = "message";
  let id = null;
  const data = [];
  for (const line of frame.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "event") event = value;
    else if (name === "data") data.push(value);
    else if (name === "id") id = value;
  }
  return data.length ? { event, id, data: data.join("\n") } : null;
}

/**
 * Streams a chat turn: POST with fetch (EventSource cannot send an Authorization header) and parses the
 * event stream from the body as it arrives. Calls onEvent(name, payload) per event; resolves when it ends.
 */
export async function streamTurn(content, conversationId, onEvent, { signal, messageId } = {}) {
  const path = conversationId
    ? `/api/chat/conversations/${encodeURIComponent(conversationId)}/messages/stream`
    : "/api/chat/messages/stream";
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    // A message id makes sending the same message again (after an error) a retry, never a second message.
    body: JSON.stringify(messageId ? { content, message_id: messageId } : { content }),
    credentials: "omit",
    cache: "no-store",
    signal,
  });
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    // Lines may end in CRLF; a CR at the end of a read may be half of one, so it waits for the next read.
    buffer += value;
    const held = buffer.endsWith("\r") ? "\r" : "";
    buffer = (held ? buffer.slice(0, -1) : buffer).replace(/\r\n?/g, "\n");
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      const frame = parseFrame(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (frame) onEvent(frame.event, JSON.parse(frame.data));
      end = buffer.indexOf("\n\n");
    }
    buffer += held;
  }
  const last = parseFrame(buffer.replace(/\r\n?/g, "\n"));
  if (last) onEvent(last.event, JSON.parse(last.data));
}
