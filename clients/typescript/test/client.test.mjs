// The built client against a real `jyntrix serve` (tests/client/test_typescript_client.py starts one and
// sets JYNTRIX_URL and JYNTRIX_TOKENS, three tokens of three users), plus what needs no server.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";

import { JyntrixClient, JyntrixError, retryAfterS } from "../dist/index.js";

const URL = process.env.JYNTRIX_URL;
const TOKENS = (process.env.JYNTRIX_TOKENS ?? "").split(",").filter(Boolean);
const EXTRACTION_TIMEOUT_MS = 60_000;

function client(index) {
  assert.ok(URL && TOKENS.length >= 3, "set JYNTRIX_URL and JYNTRIX_TOKENS (three tokens, comma-separated)");
  return new JyntrixClient(URL, TOKENS[index]);
}

async function collect(events) {
  const all = [];
  for await (const event of events) all.push(event);
  return all;
}

async function eventually(check, what) {
  const deadline = Date.now() + EXTRACTION_TIMEOUT_MS;
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${EXTRACTION_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test("remember, then search finds it first with its per-signal scores", async () => {
  const jx = client(0);
  const made = await jx.remember("My sister Maya lives in Lisbon.", { entities: ["Maya", "Lisbon"] });
  assert.equal(made.type, "semantic");
  assert.equal((await jx.getMemory(made.id)).content, "My sister Maya lives in Lisbon.");
  const found = await jx.search("Where does Maya live?", { limit: 5 });
  assert.equal(found.results[0].memory.id, made.id);
  assert.ok(found.results[0].scores.signals.vector > 0);
  assert.ok(Math.abs(found.results[0].scores.total - found.results[0].score) < 1e-9);
});

test("chat streams conversation, context, tokens and done, grounded in what was remembered", async () => {
  const jx = client(0);
  const made = await jx.remember("My brother Tom plays the cello.");
  const events = await collect(jx.chat("What does my brother play?"));
  assert.deepEqual(
    events.filter((e) => e.event !== "token").map((e) => e.event),
    ["conversation", "context", "done"],
  );
  const [opened, context] = events;
  assert.equal(opened.created, true);
  assert.ok(context.memories.some((m) => m.id === made.id));
  const answer = events.filter((e) => e.event === "token").map((e) => e.delta).join("");
  assert.match(answer, /cello/);
  const done = events.at(-1);
  assert.equal(done.conversation_id, opened.id);
  const said = await jx.messages(opened.id);
  assert.deepEqual(said.map((m) => m.role), ["user", "assistant"]);

  const again = await collect(jx.chat("And my sister?", { conversationId: opened.id }));
  assert.equal(again[0].created, false);
});

test("an unknown conversation throws a 404 before any event", async () => {
  const jx = client(0);
  await assert.rejects(collect(jx.chat("hello", { conversationId: "no-such-conversation" })), (error) => {
    assert.ok(error instanceof JyntrixError);
    assert.equal(error.status, 404);
    return true;
  });
});

test("importTranscript stores the turns at once and extraction finishes in the background", async () => {
  const jx = client(1);
  const messages = [
    { role: "user", content: "I adopted a greyhound called Pepper.", created_at: new Date("2025-03-01T10:00:00Z") },
    { role: "assistant", content: "Congratulations on Pepper!", created_at: "2025-03-01T10:00:05Z" },
    { role: "user", content: "I work as a nurse in Porto.", created_at: "2025-03-02T09:00:00Z" },
  ];
  const result = await jx.importTranscript(messages, { title: "Pets" });
  assert.equal(result.messages, 3);
  assert.equal(result.message_ids.length, 3);
  assert.ok(result.turn_memories >= 2);
  const repeated = await jx.importTranscript(messages, { title: "Pets" });
  assert.equal(repeated.conversation_id, result.conversation_id);
  assert.deepEqual(repeated.message_ids, result.message_ids);
  await eventually(async () => (await jx.extractionStatus(result.conversation_id)).finished, "extraction");
  const found = await jx.search("What is my dog called?");
  assert.ok(found.results.some((r) => r.memory.content.includes("Pepper")));
  const stored = await jx.messages(result.conversation_id);
  assert.equal(stored[0].created_at.slice(0, 19), "2025-03-01T10:00:00");
});

test("export holds everything; forgetAll needs confirm, then nothing is left", async () => {
  const jx = client(2);
  const made = await jx.remember("I keep bees on the roof.");
  await collect(jx.chat("I also grow tomatoes."));
  const profile = await jx.updateProfile({ display_name: "Ada", preferences: { tone: "brief" } });
  assert.deepEqual([profile.display_name, profile.preferences], ["Ada", { tone: "brief" }]);
  const exported = await jx.export();
  assert.ok(exported.memories.some((m) => m.id === made.id));
  assert.equal(exported.history[made.id][0].kind, "create");
  assert.equal(exported.profile.display_name, "Ada");

  await assert.rejects(jx.forgetAll({ confirm: false }), (error) => error.status === 422);
  const forgotten = await jx.forgetAll({ confirm: true });
  assert.ok(forgotten.memories >= 1);
  assert.equal(forgotten.conversations, 1);
  assert.equal((await jx.listMemories()).total, 0);
  assert.deepEqual((await jx.export()).memories, []);
  await assert.rejects(jx.getMemory(made.id), (error) => error.status === 404);
});

test("error answers are JyntrixErrors with status, code, request id and field errors", async () => {
  const jx = client(0);
  await assert.rejects(jx.getMemory("no-such-memory"), (error) => {
    assert.ok(error instanceof JyntrixError);
    assert.deepEqual([error.status, error.code], [404, "not_found"]);
    assert.ok(error.requestId);
    return true;
  });
  await assert.rejects(jx.remember(""), (error) => error.status === 422 && error.errors.length > 0);
  await assert.rejects(new JyntrixClient(URL, "not-a-token").profile(), (error) => error.status === 401);
});

test("a 429 is retried after its Retry-After; past the retries it is thrown with its code", async () => {
  const answers = [429, 429, 200, 429, 429, 429];
  const seen = [];
  const fetchDouble = async (url) => {
    seen.push(url);
    const status = answers.shift();
    if (status === 429) {
      const problem = { type: "about:blank", title: "Too many requests", status, code: "rate_limited" };
      return new Response(JSON.stringify(problem), { status, headers: { "Retry-After": "0" } });
    }
    return new Response(JSON.stringify({ items: [], total: 0, limit: 50, offset: 0 }), { status: 200 });
  };
  const jx = new JyntrixClient("http://jyntrix.test/", "token", { fetch: fetchDouble, retry: { maxRetries: 2 } });
  assert.equal((await jx.listMemories({ types: ["semantic", "profile"], limit: 50 })).total, 0);
  assert.equal(seen[0], "http://jyntrix.test/api/memories?type=semantic&type=profile&limit=50");
  await assert.rejects(jx.listMemories(), (error) => error.status === 429 && error.code === "rate_limited");
  assert.equal(seen.length, 6);
});

test("a server that cannot be reached is a JyntrixError with status 0 that says why", async () => {
  const closed = await new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  const jx = new JyntrixClient(`http://127.0.0.1:${closed}`, "token", { retry: { maxRetries: 0 } });
  await assert.rejects(jx.profile(), (error) => {
    assert.ok(error instanceof JyntrixError);
    assert.deepEqual([error.status, error.code], [0, "transport"]);
    assert.match(error.message, /ECONNREFUSED/);
    return true;
  });
});

test("Retry-After reads seconds and HTTP dates", () => {
  assert.equal(retryAfterS("3"), 3);
  assert.equal(retryAfterS("Wed, 21 Oct 2015 07:28:05 GMT", Date.parse("2015-10-21T07:28:00Z")), 5);
  assert.equal(retryAfterS("garbage"), null);
});
