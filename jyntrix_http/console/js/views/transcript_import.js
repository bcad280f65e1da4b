// Importing conversations: a transcript or a ChatGPT export, read and checked whole in the page, then sent to
// POST /api/chat/conversations/import in calls of at most the route's limit, with the progress shown, and
// background extraction followed until every conversation is done.

import { ApiError, api } from "../api.js";
import { conversationHref, field, h, replace } from "../dom.js";
import { FileProblem, readTranscripts } from "../transcripts.js";
import { readZipMember } from "../zip.js";

const MAX_FILE_BYTES = 128 * 2 ** 20; // as `jyntrix import` reads at most
const CHATGPT_FILE = "conversations.json";
// Requests are rate-limited per user: extraction is polled one conversation at a time, this far apart.
const POLL_MS = 1500;

function count(n, one, many = `${one}s`) {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

/** The route's limits, checked before the first call so that a file is sent whole or not at all. */
function checkLimits(transcripts, limits) {
  const length = (text) => [...text].length; // the route counts characters, not UTF-16 units
  for (const t of transcripts) {
    t.messages.forEach((m, i) => {
      const where = `${t.source}: message ${i + 1}`;
      if (length(m.content) > limits.content_chars) {
        throw new FileProblem(`${where} is longer than ${limits.content_chars.toLocaleString("en")} characters`);
      }
      if (m.name && length(m.name) > limits.name_chars) {
        throw new FileProblem(`${where}: the name is longer than ${limits.name_chars} characters`);
      }
      if (m.id && length(m.id) > limits.id_chars) {
        throw new FileProblem(`${where}: the id is longer than ${limits.id_chars} characters`);
      }
      if (holdsNul(m)) throw new FileProblem(`${where} holds a NUL character (\\u0000)`);
    });
    if (t.title && length(t.title) > limits.title_chars) t.title = [...t.title].slice(0, limits.title_chars).join("");
  }
}

/** Whether any text in `value` (keys included) holds NUL, which Postgres cannot store and the route refuses. */
function holdsNul(value) {
  if (typeof value === "string") return value.includes("\u0000");
  if (value === null || typeof value !== "object") return false;
  return Object.entries(value).some(([key, item]) => key.includes("\u0000") || holdsNul(item));
}

async function readFile(file) {
  if (file.size > MAX_FILE_BYTES) throw new FileProblem(`${file.name}: larger than ${MAX_FILE_BYTES / 2 ** 20} MB`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  // "PK\x03\x04": a zip, as a ChatGPT export arrives
  const zipped = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
  const data = zipped ? await readZipMember(bytes, CHATGPT_FILE, MAX_FILE_BYTES, file.name) : bytes;
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    throw new FileProblem(`${file.name}: not UTF-8 text`);
  }
  const transcripts = readTranscripts(text, zipped ? `${file.name}:${CHATGPT_FILE}` : file.name, new Date(file.lastModified));
  if (!transcripts.length) throw new FileProblem(`${file.name}: no conversation in it says anything`);
  return transcripts;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One call; a 429 (the rate limit, or the user's import slots in use) is waited out and tried again. */
async function post(body, onWait) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await api("POST", "/api/chat/conversations/import", body);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 429 || attempt >= 5) throw error;
      const seconds = Math.min(60, Math.max(1, error.retryAfter ?? 2));
      onWait(seconds);
      await sleep(seconds * 1000);
    }
  }
}

export function transcriptImportCard(reload, flash) {
  const accept = ".txt,.md,.json,.jsonl,.zip,text/plain,application/json,application/zip";
  const input = h("input", { type: "file", id: "transcript-file", accept });
  const preview = h("div", { id: "transcript-preview", class: "import-preview" });
  const start = h("button", { type: "button", id: "transcript-import", class: "primary", disabled: true }, "Import");
  const bar = h("progress", { id: "transcript-progress", max: 1, value: 0, hidden: true });
  const progress = h("p", { id: "transcript-progress-text", class: "muted", "aria-live": "polite" });
  const results = h("ul", { id: "transcript-results", class: "import-results" });
  const extraction = h("p", { id: "transcript-extraction", class: "muted", "aria-live": "polite" });
  let transcripts = null;
  let limits = null;
  let running = false;

  const showProgress = (sent, total, done, conversations, note = "") => {
    bar.hidden = false;
    bar.max = total;
    bar.value = sent;
    Object.assign(progress.dataset, { sent, total, done, conversations });
    const messages = `${sent.toLocaleString("en")} of ${count(total, "message")} sent`;
    progress.textContent = `${messages} · ${done} of ${count(conversations, "conversation")} done${note}`;
  };

  input.addEventListener("change", async () => {
    transcripts = null;
    start.disabled = true;
    delete preview.dataset.read;
    replace(preview);
    replace(results);
    replace(extraction);
    replace(progress);
    bar.hidden = true;
    const file = input.files[0];
    if (!file) return replace(preview);
    try {
      limits = limits || (await api("GET", "/api/console/config")).transcripts;
      const read = await readFile(file);
      checkLimits(read, limits);
      transcripts = read;
    } catch (error) {
      replace(preview, h("p", { class: "problem", id: "transcript-problem" }, error.message));
      preview.dataset.read = file.name;
      return;
    }
    const total = transcripts.reduce((n, t) => n + t.messages.length, 0);
    const speakers = [...new Set(transcripts.flatMap((t) => t.messages.map((m) => m.name || m.role)))];
    const who = speakers.length > 6 ? `${speakers.slice(0, 6).join(", ")} and ${speakers.length - 6} more` : speakers.join(", ");
    preview.dataset.conversations = transcripts.length;
    preview.dataset.messages = total;
    const what = `${count(transcripts.length, "conversation")}, ${count(total, "message")} (${who})`;
    replace(preview, h("p", {}, h("strong", {}, file.name), `: ${what}`));
    start.textContent = `Import ${count(total, "message")}`;
    start.disabled = false;
    preview.dataset.read = file.name;
  });

  const follow = async (imported) => {
    // Extraction runs in the background; each conversation's status says when it has finished.
    const unfinished = imported.filter((item) => !item.result.extraction.finished);
    const report = () => {
      const done = imported.length - unfinished.length;
      extraction.dataset.finished = String(unfinished.length === 0);
      extraction.textContent = unfinished.length
        ? `Extracting memories: ${done} of ${count(imported.length, "conversation")} finished…`
        : `Extraction finished for ${count(imported.length, "conversation")}: the facts are in the list.`;
    };
    report();
    while (unfinished.length && input.isConnected) {
      await sleep(POLL_MS);
      const item = unfinished[0];
      const path = `/api/chat/conversations/${encodeURIComponent(item.result.conversation_id)}?limit=1`;
      let detail;
      try {
        detail = await api("GET", path);
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 429) throw error;
        await sleep(Math.max(1, error.retryAfter ?? 2) * 1000); // rate-limited: the next look waits its turn
        continue;
      }
      item.status(detail.extraction);
      if (detail.extraction.finished) unfinished.shift();
      else unfinished.push(unfinished.shift());
      report();
    }
  };

  const run = async () => {
    running = true;
    start.disabled = true;
    input.disabled = true;
    const total = transcripts.reduce((n, t) => n + t.messages.length, 0);
    const imported = [];
    let sent = 0;
    delete progress.dataset.failed;
    replace(results);
    replace(extraction);
    showProgress(0, total, 0, transcripts.length);
    try {
      for (const transcript of transcripts) {
        let result = null;
        // Calls as full as the route takes, as `jyntrix import` makes them: the route derives ids from a message's
        // place in its call, so the same cut is what makes the same file through either door one conversation.
        for (let i = 0; i < transcript.messages.length; i += limits.messages_per_call) {
          const body = { messages: transcript.messages.slice(i, i + limits.messages_per_call) };
          if (transcript.title) body.title = transcript.title;
          const into = result ? result.conversation_id : transcript.conversation_id;
          if (into) body.conversation_id = into;
          const show = (note = "") => showProgress(sent, total, imported.length, transcripts.length, note);
          show(` · sending ${(sent + 1).toLocaleString("en")}–${(sent + body.messages.length).toLocaleString("en")}`);
          const answer = await post(body, (seconds) => show(` · waiting ${seconds} s for the rate limit`));
          result = result
            ? { ...answer, messages: result.messages + answer.messages, turn_memories: result.turn_memories + answer.turn_memories }
            : answer;
          sent += body.messages.length;
          showProgress(sent, total, imported.length, transcripts.length);
        }
        imported.push({ transcript, result, status: resultLine(results, transcript, result) });
        showProgress(sent, total, imported.length, transcripts.length);
      }
    } catch (error) {
      const detail = error.message || String(error);
      progress.dataset.failed = "yes";
      progress.textContent = `Stopped after ${sent.toLocaleString("en")} of ${count(total, "message")}: ${detail}`;
      flash(detail);
      start.disabled = false; // sending it again is safe: what was stored is recognised and not stored twice
    } finally {
      running = false;
      input.disabled = false;
    }
    // Picking the same file again is then a new choice (a file input does not report an unchanged one).
    if (!progress.dataset.failed) input.value = "";
    if (imported.length && input.isConnected) {
      await reload();
      await follow(imported);
      if (input.isConnected) await reload();
    }
  };

  start.addEventListener("click", () => {
    if (!running && transcripts) run().catch((e) => flash(e.message || String(e)));
  });

  return h(
    "details",
    { class: "card import transcript-import" },
    h("summary", {}, "Import conversations"),
    h(
      "p",
      { class: "muted" },
      "A transcript as plain text (",
      h("code", {}, "User: …"),
      " / ",
      h("code", {}, "Assistant: …"),
      " lines; other names are speakers on your side), as JSON or JSON Lines, or a ChatGPT export (its .zip, or the conversations.json in it). The file is read here and checked whole before anything is sent; importing it again adds nothing.",
    ),
    field("File", input),
    preview,
    h("div", { class: "row" }, start),
    bar,
    progress,
    results,
    extraction,
  );
}

/** A conversation's line in the results; returns the function that shows its extraction status. */
function resultLine(list, transcript, result) {
  const status = h("span", { class: "extraction muted" });
  const line = h(
    "li",
    { dataset: { conversationId: result.conversation_id } },
    h("a", { href: conversationHref(result.conversation_id) }, transcript.title || transcript.source),
    ` · ${count(result.messages, "message")}, ${count(result.turn_memories, "turn memory", "turn memories")} · `,
    status,
  );
  const show = (extraction) => {
    line.dataset.extraction = extraction.finished ? "finished" : "pending";
    status.textContent = extraction.finished ? "extracted" : `extracting (${count(extraction.pending, "batch", "batches")} left)`;
  };
  show(result.extraction);
  list.append(line);
  return show;
}
