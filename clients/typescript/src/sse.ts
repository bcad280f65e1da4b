/**
 * Server-Sent Events from a fetch body, with nothing but web-standard APIs (ReadableStream, TextDecoder),
 * so it runs on Node 20 and in browsers alike. It follows the WHATWG event-stream rules: lines end in LF,
 * CRLF or CR (a CRLF split across two chunks is one line end); `data` lines join with LF; a blank line
 * dispatches the event; comments and unknown fields are ignored; an event left unfinished at the end of
 * the stream is dropped.
 */

export interface ServerSentEvent {
  /** The event's name (`message` when the stream names none). */
  event: string;
  data: string;
  /** The last event id seen, if any. */
  id: string | null;
}

/** Turns decoded text, chunk by chunk, into events. */
export class EventStreamParser {
  private pending = "";
  private data: string[] = [];
  private name = "";
  private lastId: string | null = null;

  /** Takes the next piece of text; returns the events it completed. */
  push(text: string): ServerSentEvent[] {
    this.pending += text;
    const events: ServerSentEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.pending.length; i++) {
      const char = this.pending[i];
      if (char !== "\n" && char !== "\r") continue;
      // A CR last in the text may be the first half of a CRLF: wait for the next piece to tell.
      if (char === "\r" && i === this.pending.length - 1) break;
      const line = this.pending.slice(start, i);
      if (char === "\r" && this.pending[i + 1] === "\n") i++;
      start = i + 1;
      const event = this.line(line);
      if (event !== null) events.push(event);
    }
    this.pending = this.pending.slice(start);
    return events;
  }

  /** The end of the stream: a trailing CR still ends its line. */
  end(): ServerSentEvent[] {
    const events = this.pending.endsWith("\r") ? this.push("\n") : [];
    this.pending = "";
    return events;
  }

  private line(line: string): ServerSentEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.name = value;
    else if (field === "id" && !value.includes("\0")) this.lastId = value;
    return null;
  }

  private dispatch(): ServerSentEvent | null {
    const data = this.data;
    const name = this.name;
    this.data = [];
    this.name = "";
    if (data.length === 0) return null;
    return { event: name || "message", data: data.join("\n"), id: this.lastId };
  }
}

/** The events of a response body, as they arrive. Stopping early (break, return) cancels the body. */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new EventStreamParser();
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
    yield* parser.end();
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
