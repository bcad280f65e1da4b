// Reading conversation files in the page, as `jyntrix import` reads them (jyntrix_client/transcript_files.py):
// the project's JSON shape, JSON Lines of it, plain-text `Name: text` lines, or a ChatGPT export. A file is read
// and checked whole before anything is sent, so a bad file is refused whole, with where it went wrong.
//
// Ids and times are given exactly as the command gives them (a message keeps the id its file gives it, and no
// other; a time keeps its own offset, to the microsecond), because the route derives the conversation's and the
// messages' ids from them: the same file through the console and the command is one conversation, stored once.

export class FileProblem extends Error {}

const ROLES = ["user", "assistant"];
const OWN_FIELDS = ["title", "conversation_id", "messages"];
const MESSAGE_FIELDS = ["role", "content", "created_at", "name", "id", "metadata"];

// ------------------------------------------------------------------ times, as Python's datetime holds them

/** A point in time with its UTC offset: whole microseconds since the epoch, and the offset in minutes. */
function at(micros, offset) {
  return { micros, offset };
}

function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

/** "2023-05-08T13:56:00.123456+02:00": RFC 3339, as the route reads it, in the time's own offset. */
export function isoTime(time) {
  const local = time.micros + time.offset * 60_000_000;
  const seconds = Math.floor(local / 1_000_000);
  const fraction = local - seconds * 1_000_000;
  const d = new Date(seconds * 1000);
  const sign = time.offset < 0 ? "-" : "+";
  const offset = Math.abs(time.offset);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    (fraction ? `.${pad(fraction, 6)}` : "") +
    `${sign}${pad(Math.floor(offset / 60))}:${pad(offset % 60)}`
  );
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** An ISO 8601 time with a timezone, kept in its own offset (jyntrix_client.transcript.parse_time). */
export function parseTime(raw, where) {
  if (typeof raw !== "string") {
    throw new FileProblem(`${where}: must be an ISO 8601 time with a timezone, e.g. 2023-05-08T13:56:00Z`);
  }
  const m = ISO.exec(raw.trim());
  if (!m) throw new FileProblem(`${where}: ${repr(raw)} is not an ISO 8601 time`);
  if (!m[8] && !m[9]) throw new FileProblem(`${where}: ${repr(raw)} has no timezone (add Z or +00:00)`);
  const [year, month, date, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] || 0));
  const offset = m[9] ? (m[9] === "-" ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11] || 0)) : 0;
  const ms = Date.UTC(year, month - 1, date, hour, minute, second);
  const check = new Date(ms);
  if (
    check.getUTCMonth() !== month - 1 || check.getUTCDate() !== date || hour > 23 || minute > 59 || second > 59 ||
    Math.abs(offset) >= 24 * 60 || year < 1
  ) {
    throw new FileProblem(`${where}: ${repr(raw)} is not an ISO 8601 time`);
  }
  const micros = Number((m[7] || "").slice(0, 6).padEnd(6, "0"));
  return at((ms - offset * 60_000) * 1000 + micros, offset);
}

/** Unix seconds as Python's datetime.fromtimestamp(t, UTC) holds them: microseconds rounded half to even. */
export function epochTime(raw, where) {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== "number" || !Number.isFinite(raw)) {
    throw new FileProblem(`${where}: must be a Unix time in seconds, got ${repr(raw)}`);
  }
  let whole = Math.trunc(raw);
  let fraction = (raw - whole) * 1e6;
  const floor = Math.floor(fraction);
  const rest = fraction - floor;
  fraction = rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  if (fraction >= 1e6) {
    fraction -= 1e6;
    whole += 1;
  } else if (fraction < 0) {
    fraction += 1e6;
    whole -= 1;
  }
  // Python's datetime holds years 1 to 9999.
  if (whole < -62135596800 || whole > 253402300799) throw new FileProblem(`${where}: ${raw} is out of range`);
  return at(whole * 1_000_000 + fraction, 0);
}

// ------------------------------------------------------------------ shared checks

// JSON's \ud800-style escapes can spell half of a UTF-16 pair, which no UTF-8 text (nor the server) can hold.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkText(text, where) {
  if (LONE_SURROGATE.test(text)) {
    throw new FileProblem(`${where}: holds a lone surrogate escape (like \\ud800), which is not text`);
  }
  return text;
}

/** A value from the file as the command's messages show it (Python's repr), so both doors word a problem alike. */
function repr(raw) {
  if (raw === null || raw === undefined) return "None";
  if (typeof raw === "string") {
    if (raw.includes("'") && !raw.includes('"')) return JSON.stringify(raw);
    return `'${raw.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  }
  if (typeof raw === "boolean") return raw ? "True" : "False";
  return JSON.stringify(raw);
}

function isObject(raw) {
  return raw !== null && typeof raw === "object" && !Array.isArray(raw);
}

function shown(raw) {
  const text = String(raw).split(/\s+/).filter(Boolean).join(" ");
  return text.length <= 60 ? text : `${text.slice(0, 59)}…`;
}

function optionalText(raw, where) {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== "string" || !raw.trim()) throw new FileProblem(`${where}: must be non-empty text when given`);
  return checkText(raw, where);
}

function uniqueIds(messages, where) {
  const seen = new Set();
  messages.forEach((message, i) => {
    if (message.id === undefined) return;
    if (seen.has(message.id)) throw new FileProblem(`${where}: messages[${i}].id ${repr(message.id)} appears twice`);
    seen.add(message.id);
  });
}

function message(role, content, time, extra = {}) {
  const built = { role, content, created_at: isoTime(time) };
  for (const [key, value] of Object.entries(extra)) if (value !== null && value !== undefined) built[key] = value;
  return built;
}

// ------------------------------------------------------------------ reading a file

/**
 * Every transcript in the file: [{title, conversation_id, messages, source}], each message as the import route
 * takes it. `modified` (a Date) dates a plain-text file that gives no time of its own. Throws FileProblem.
 */
export function readTranscripts(text, fileName, modified) {
  const body = text.replace(/^\ufeff/, "");
  const start = body.trimStart().slice(0, 1);
  if (!start) throw new FileProblem(`${fileName}: the file is empty`);
  if ((start !== "{" && start !== "[") || looksLikePlainText(body)) {
    return [readPlainText(body, fileName, modified)];
  }
  let whole;
  try {
    whole = JSON.parse(body);
  } catch (error) {
    if (start === "[") throw new FileProblem(`${fileName}: not JSON (${error.message})`);
    return lines(body).map(([n, line]) => own(loadJson(line, `line ${n}`), `line ${n}`));
  }
  if (Array.isArray(whole)) {
    if (whole.some((c) => isObject(c) && "mapping" in c)) return readChatgptExport(whole, fileName);
    throw new FileProblem(
      `${fileName}: a JSON list must be a ChatGPT export (conversations with a 'mapping'); ` +
        "for several transcripts of the project's own shape, use JSON Lines",
    );
  }
  return [own(whole, fileName)];
}

function splitLines(text) {
  // Python's str.splitlines: the line breaks it knows, and no empty line after a final break.
  const found = text.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
  if (found.length && found[found.length - 1] === "") found.pop();
  return found;
}

function lines(text) {
  return splitLines(text)
    .map((line, i) => [i + 1, line])
    .filter(([, line]) => line.trim());
}

function loadJson(text, where) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FileProblem(`${where}: not JSON (${error.message})`);
  }
}

// ------------------------------------------------------------------ the project's own shape

function own(raw, where) {
  if (!isObject(raw)) throw new FileProblem(`${where}: expected an object with 'messages', got ${Array.isArray(raw) ? "list" : typeof raw}`);
  const unknown = Object.keys(raw).filter((key) => !OWN_FIELDS.includes(key));
  if (unknown.length) throw new FileProblem(`${where}: unknown field(s) ${unknown.sort().join(", ")}`);
  const title = optionalText(raw.title, `${where}: title`);
  const conversationId = optionalText(raw.conversation_id, `${where}: conversation_id`);
  if (!Array.isArray(raw.messages) || !raw.messages.length) throw new FileProblem(`${where}: 'messages' must be a non-empty list`);
  const messages = raw.messages.map((item, i) => ownMessage(item, `${where}: messages[${i}]`));
  uniqueIds(messages, where);
  return { title, conversation_id: conversationId, messages, source: where };
}

function ownMessage(raw, where) {
  if (!isObject(raw)) throw new FileProblem(`${where}: expected an object, got ${typeof raw}`);
  const unknown = Object.keys(raw).filter((key) => !MESSAGE_FIELDS.includes(key));
  if (unknown.length) throw new FileProblem(`${where}: unknown field(s) ${unknown.sort().join(", ")}`);
  if (!ROLES.includes(raw.role)) throw new FileProblem(`${where}.role: must be 'user' or 'assistant', got ${repr(raw.role)}`);
  if (typeof raw.content !== "string" || !raw.content.trim()) throw new FileProblem(`${where}.content: must be non-empty text`);
  checkText(raw.content, `${where}.content`);
  const time = parseTime(raw.created_at, `${where}.created_at`);
  const metadata = raw.metadata ?? {};
  if (!isObject(metadata)) throw new FileProblem(`${where}.metadata: must be an object`);
  return message(raw.role, raw.content, time, {
    name: optionalText(raw.name, `${where}.name`),
    id: optionalText(raw.id, `${where}.id`),
    metadata: Object.keys(metadata).length ? metadata : null,
  });
}

// ------------------------------------------------------------------ plain text

// "[2023-05-08T13:56:00Z] " or "2023-05-08 13:56:00+02:00 ": a message's own time, before its speaker.
const TIME = /^(?:\[([^\]]{1,40})\]|(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?))\s+/u;
// "Name: text": a name of one to three words (letters, digits, . ' - _; starting with a letter; at most 40
// characters), then a colon and a space or the line's end. So "https://…", "at 10:30 we met" or "We met on
// Sunday: …" continue a message rather than start one.
const SPEAKER = /^(?<name>\p{L}[\p{L}\p{N}_.'-]*(?: [\p{L}\p{N}_.'-]+){0,2})\s*:(?:\s+(?<text>.*)|$)/su;
const MAX_SPEAKER_CHARS = 40;

function speaker(rest) {
  const found = SPEAKER.exec(rest);
  return found && found.groups.name.length <= MAX_SPEAKER_CHARS ? found.groups : null;
}

function lineTime(line) {
  const found = TIME.exec(line);
  if (!found) return [null, line];
  return [(found[1] || found[2]).trim(), line.slice(found[0].length)];
}

function looksLikePlainText(text) {
  return speaker(lineTime(text.trimStart().split("\n", 1)[0])[1]) !== null;
}

/**
 * One conversation from lines of `Name: text`, each optionally after its time: `User:` and `Assistant:` (any
 * case) are the two roles, any other name a speaker on the user's side; a line without a name continues the
 * message before it. A message without a time comes a second after the one before (those before the first
 * time given, a second apart up to it); with no time at all, the last message is at the file's modification
 * time, in whole seconds. So the same file imported again gets the same times, and adds nothing.
 */
export function readPlainText(text, where, modified) {
  const said = [];
  splitLines(text).forEach((line, i) => {
    const n = i + 1;
    const [time, rest] = lineTime(line);
    const found = speaker(rest);
    if (found) {
      const given = time === null ? null : parseTime(time.replace(",", "."), `${where}: line ${n}`);
      said.push({ line: n, name: found.name.trim(), at: given, lines: [found.text ?? ""] });
    } else if (said.length) {
      said[said.length - 1].lines.push(line);
    } else if (line.trim()) {
      throw new FileProblem(
        `${where}: line ${n}: a plain-text transcript starts with a speaker, as in 'User: …', 'Assistant: …' or 'Caroline: …'`,
      );
    }
  });
  if (!said.length) throw new FileProblem(`${where}: the file is empty`);
  const times = plainTimes(said.map((s) => s.at), at(Math.floor(modified.getTime() / 1000) * 1_000_000, 0));
  const messages = said.map((s, i) => {
    const content = s.lines.join("\n").trim();
    if (!content) throw new FileProblem(`${where}: line ${s.line}: ${shown(s.name)} says nothing`);
    checkText(content, `${where}: line ${s.line}`);
    const role = s.name.toLowerCase();
    return ROLES.includes(role) ? message(role, content, times[i]) : message("user", content, times[i], { name: s.name });
  });
  return { title: null, conversation_id: null, messages, source: where };
}

function plainTimes(given, modified) {
  let anchor = given.findIndex((time) => time !== null);
  if (anchor === -1) anchor = given.length - 1;
  let last = given[anchor] || modified;
  let lastIndex = anchor;
  return given.map((time, i) => {
    if (time !== null) {
      last = time;
      lastIndex = i;
    }
    return at(last.micros + (i - lastIndex) * 1_000_000, last.offset);
  });
}

// ------------------------------------------------------------------ ChatGPT data export

/** conversations.json: each conversation along its current branch; ones with nothing said are skipped. */
export function readChatgptExport(conversations, fileName) {
  if (!Array.isArray(conversations)) throw new FileProblem(`${fileName}: conversations.json must hold a list of conversations`);
  const found = [];
  conversations.forEach((raw, i) => {
    let where = `conversation ${i + 1}`;
    if (isObject(raw)) where += ` (${shown(raw.title || raw.id || "untitled")})`;
    const transcript = chatgptConversation(raw, where);
    if (transcript) found.push(transcript);
  });
  return found;
}

function chatgptConversation(raw, where) {
  if (!isObject(raw) || !isObject(raw.mapping)) throw new FileProblem(`${where}: has no 'mapping' message tree`);
  let fallback = epochTime(raw.create_time, `${where}: create_time`);
  const messages = [];
  for (const node of currentBranch(raw.mapping, raw.current_node, where)) {
    const parsed = chatgptMessage(node.message, `${where}: message ${shown(node.id)}`, fallback);
    if (parsed) {
      messages.push(parsed.message);
      fallback = parsed.time;
    }
  }
  if (!messages.length) return null; // nothing but system prompts or tool calls: nothing to remember
  uniqueIds(messages, where);
  const title = typeof raw.title === "string" && raw.title.trim() ? checkText(raw.title, `${where}: its title`) : null;
  return { title, conversation_id: null, messages, source: where };
}

function currentBranch(mapping, current, where) {
  const has = (id) => typeof id === "string" && Object.hasOwn(mapping, id);
  let nodeId = has(current) ? current : lastLeaf(mapping, where);
  const branch = [];
  const seen = new Set();
  while (has(nodeId)) {
    if (seen.has(nodeId)) throw new FileProblem(`${where}: the message tree has a cycle at ${shown(nodeId)}`);
    seen.add(nodeId);
    const node = mapping[nodeId];
    if (!isObject(node)) throw new FileProblem(`${where}: node ${shown(nodeId)} is not an object`);
    branch.push({ id: nodeId, ...node });
    nodeId = node.parent;
  }
  return branch.reverse();
}

function lastLeaf(mapping, where) {
  // Older exports may lack current_node: follow the last child down from the root instead.
  const root = Object.keys(mapping).find((key) => isObject(mapping[key]) && !mapping[key].parent);
  if (root === undefined) throw new FileProblem(`${where}: the message tree has no root`);
  let current = root;
  const seen = new Set([current]);
  for (;;) {
    const children = mapping[current].children;
    const known = Array.isArray(children) ? children.filter((c) => typeof c === "string" && Object.hasOwn(mapping, c)) : [];
    if (!known.length) return current;
    current = known[known.length - 1];
    if (seen.has(current)) throw new FileProblem(`${where}: the message tree has a cycle at ${shown(current)}`);
    seen.add(current);
  }
}

function chatgptMessage(raw, where, fallback) {
  if (!isObject(raw)) return null;
  const author = isObject(raw.author) ? raw.author : {};
  const metadata = isObject(raw.metadata) ? raw.metadata : {};
  if (!ROLES.includes(author.role) || metadata.is_visually_hidden_from_conversation) return null;
  const text = chatgptText(raw.content);
  if (!text) return null;
  checkText(text, `${where}: its text`);
  const time = epochTime(raw.create_time, `${where}: create_time`) || fallback;
  if (!time) throw new FileProblem(`${where}: has no create_time, and neither has its conversation`);
  if (typeof raw.id !== "string" || !raw.id) throw new FileProblem(`${where}: has no id`);
  checkText(raw.id, `${where}: its id`);
  const name = typeof author.name === "string" && author.name ? checkText(author.name, `${where}: its author's name`) : null;
  return { message: message(author.role, text, time, { name, id: raw.id }), time };
}

function chatgptText(content) {
  if (!isObject(content) || !["text", "multimodal_text"].includes(content.content_type)) return "";
  const parts = Array.isArray(content.parts) ? content.parts : [];
  return parts
    .filter((p) => typeof p === "string" && p.trim())
    .join("\n")
    .trim();
}
