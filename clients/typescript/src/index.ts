/**
 * A typed client for the Jyntrix memory API (fetch only: Node 20+ and browsers).
 *
 *   const jx = new JyntrixClient("http://127.0.0.1:8000", token);
 *   await jx.remember("My sister Maya lives in Lisbon.");
 *   for await (const event of jx.chat("Where does my sister live?"))
 *     if (event.event === "token") process.stdout.write(event.delta);
 */

export { JyntrixClient, retryAfterS } from "./client.js";
export type { ChatOptions, ClientOptions, ListFilters, RetryPolicy } from "./client.js";
export { JyntrixError } from "./errors.js";
export { EventStreamParser, readEvents } from "./sse.js";
export type { ServerSentEvent } from "./sse.js";
export type * from "./types.js";
export type { components, paths } from "./schema.js";
