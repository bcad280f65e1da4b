// The event-stream parser, fed the way a network feeds it: in pieces cut anywhere.
import assert from "node:assert/strict";
import { test } from "node:test";

import { EventStreamParser, readEvents } from "../dist/index.js";

function parseInPieces(text, size) {
  const parser = new EventStreamParser();
  const events = [];
  for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
  events.push(...parser.end());
  return events;
}

const STREAM =
  ": a comment\r\n" +
  "event: token\r\n" +
  "id: 1\r\n" +
  'data: {"event":"token",\r\n' +
  'data: "delta":"Lis"}\r\n' +
  "\r\n" +
  "event: done\n" +
  "data:no space\n" +
  "\n" +
  "data: unnamed\r" +
  "\r" +
  "data: never finished\n";

test("every cut of the stream gives the same events: CRLF, LF and CR line ends, joined data, comments", () => {
  const expected = [
    { event: "token", data: '{"event":"token",\n"delta":"Lis"}', id: "1" },
    { event: "done", data: "no space", id: "1" },
    { event: "message", data: "unnamed", id: "1" },
  ];
  for (const size of [1, 2, 3, 7, 13, STREAM.length]) {
    assert.deepEqual(parseInPieces(STREAM, size), expected, `pieces of ${size}`);
  }
});

test("an event with no data is not dispatched, and its name does not leak into the next", () => {
  assert.deepEqual(parseInPieces("event: context\n\ndata: x\n\n", 4), [{ event: "message", data: "x", id: null }]);
});

test("readEvents decodes UTF-8 split across chunks and stops the body when the reader stops early", async () => {
  const bytes = new TextEncoder().encode('event: token\ndata: {"delta":"Lisboa é"}\n\nevent: token\ndata: more\n\n');
  let cancelled = false;
  const body = new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 5) controller.enqueue(bytes.slice(i, i + 5));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const event of readEvents(body)) {
    assert.deepEqual(event, { event: "token", data: '{"delta":"Lisboa é"}', id: null });
    break;
  }
  assert.equal(cancelled, true);
});
