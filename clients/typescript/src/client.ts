/**
 * The Jyntrix API over fetch: memories, search, chat streamed over SSE, transcript import, export and forget.
 *
 * Every error answer throws a JyntrixError (status, code, requestId); 429 and 503 are retried after their
 * Retry-After, at most `retry.maxRetries` times and never waiting longer than `retry.maxWaitS` at once.
 */

import { JyntrixError, errorFromResponse, transportError } from "./errors.js";
import { readEvents } from "./sse.js";
import type {
  ChatEvent,
  Conversation,
  ConversationDetail,
  ConversationPage,
  ExtractionStatus,
  ForgetResult,
  HistoryResponse,
  Memory,
  MemoryChange,
  MemoryExport,
  Remembered,
  MemoryImportResult,
  MemoryIn,
  MemoryKind,
  MemoryPage,
  MemoryPatch,
  MemoryType,
  Message,
  MessagePage,
  ProfileView,
  SearchRequest,
  SearchResponse,
  SendMessage,
  TranscriptImportResult,
  TranscriptMessage,
} from "./types.js";

export interface RetryPolicy {
  maxRetries: number;
  maxWaitS: number;
  /** The wait when a 429 or 503 names none. */
  defaultWaitS: number;
}

export interface ClientOptions {
  retry?: Partial<RetryPolicy>;
  /** Another fetch (a test double, one with a proxy agent); the global fetch by default. */
  fetch?: typeof fetch;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

export interface ListFilters {
  types?: MemoryType[];
  kinds?: MemoryKind[];
  currentOnly?: boolean;
  contains?: string;
  createdAfter?: string | Date;
  createdBefore?: string | Date;
  limit?: number;
  offset?: number;
}

export interface ChatOptions {
  conversationId?: string;
  /** Sending the same id again after an `error` event retries the turn without storing the message twice. */
  messageId?: string;
  /** The speaker, when the user's side is more than one person. */
  name?: string;
  signal?: AbortSignal;
}

type Query = Record<string, string | number | boolean | Date | readonly (string | number)[] | undefined>;

interface Request {
  query?: Query;
  body?: unknown;
  accept?: string;
  signal?: AbortSignal;
}

const RETRYABLE = new Set([429, 503]);
const DEFAULT_RETRY: RetryPolicy = { maxRetries: 2, maxWaitS: 30, defaultWaitS: 1 };

/** Retry-After as seconds: a number of seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterS(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  const seconds = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : (Date.parse(trimmed) - now) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, seconds) : null;
}

export class JyntrixClient {
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly retry: RetryPolicy;
  private readonly fetch: typeof fetch;

  constructor(baseUrl: string, token?: string, options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.headers = { ...options.headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) };
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  // ---------------------------------------------------------------- memories

  /**
   * Create a memory; `fields` are MemoryIn's others (type, reliability, entities, metadata, created_at, id).
   * Content a current memory says already is that memory (`duplicate` true), which gains the new sources.
   */
  remember(content: string, fields: Partial<Omit<MemoryIn, "content">> = {}): Promise<Remembered> {
    return this.json("POST", "/api/memories", { body: { ...fields, content } });
  }

  getMemory(memoryId: string): Promise<Memory> {
    return this.json("GET", `/api/memories/${segment(memoryId)}`);
  }

  /** One page, newest first. */
  listMemories(filters: ListFilters = {}): Promise<MemoryPage> {
    return this.json("GET", "/api/memories", {
      query: {
        type: filters.types,
        kind: filters.kinds,
        current_only: filters.currentOnly,
        contains: filters.contains,
        created_after: filters.createdAfter,
        created_before: filters.createdBefore,
        limit: filters.limit,
        offset: filters.offset,
      },
    });
  }

  /** Every memory matching the filters, fetched a page at a time. */
  async *iterMemories(filters: Omit<ListFilters, "offset"> = {}, pageSize = 100): AsyncGenerator<Memory> {
    let offset = 0;
    for (;;) {
      const page = await this.listMemories({ ...filters, limit: pageSize, offset });
      yield* page.items;
      offset += page.items.length;
      if (page.items.length === 0 || offset >= page.total) return;
    }
  }

  /** Change content, type, reliability, entities or metadata (recorded in the memory's history). */
  updateMemory(memoryId: string, patch: MemoryPatch): Promise<Memory> {
    return this.json("PATCH", `/api/memories/${segment(memoryId)}`, { body: patch });
  }

  /** Replace a fact with a newer one; the old one stays, closed, in history. */
  supersede(memoryId: string, content: string, fields: Partial<Omit<MemoryIn, "content">> = {}): Promise<Memory> {
    return this.json("POST", `/api/memories/${segment(memoryId)}/supersede`, { body: { ...fields, content } });
  }

  /** Delete one memory. */
  async forget(memoryId: string): Promise<void> {
    await this.call("DELETE", `/api/memories/${segment(memoryId)}`);
  }

  async history(memoryId: string): Promise<MemoryChange[]> {
    const found: HistoryResponse = await this.json("GET", `/api/memories/${segment(memoryId)}/history`);
    return found.changes;
  }

  /** Hybrid search; each result carries its per-signal scores. */
  search(query: string, options: Partial<Omit<SearchRequest, "query">> = {}): Promise<SearchResponse> {
    return this.json("POST", "/api/memories/search", { body: { ...options, query } });
  }

  /** Import up to 1,000 memories at once, with their own dates and ids (an id imported again is kept). */
  importMemories(memories: MemoryIn[]): Promise<MemoryImportResult> {
    return this.json("POST", "/api/memories/import", { body: { memories } });
  }

  /** Everything remembered about the caller, as one document. */
  export(): Promise<MemoryExport> {
    return this.json("GET", "/api/memories/export");
  }

  /** Forget everything about the caller: memories, conversations, profile. The server needs `confirm: true`. */
  forgetAll(options: { confirm: boolean }): Promise<ForgetResult> {
    return this.json("DELETE", "/api/memories", { query: { confirm: options.confirm } });
  }

  // ---------------------------------------------------------------- profile

  profile(): Promise<ProfileView> {
    return this.json("GET", "/api/profile");
  }

  /** Change the display name ("" clears it) or preferences (merged key by key; null removes a key). */
  updateProfile(patch: { display_name?: string; preferences?: Record<string, string | null> }): Promise<ProfileView> {
    return this.json("PATCH", "/api/profile", { body: patch });
  }

  // ---------------------------------------------------------------- conversations

  listConversations(options: { limit?: number; offset?: number } = {}): Promise<ConversationPage> {
    return this.json("GET", "/api/chat/conversations", { query: options });
  }

  /** Every conversation, most recently active first. */
  async *iterConversations(pageSize = 50): AsyncGenerator<Conversation> {
    let offset = 0;
    for (;;) {
      const page = await this.listConversations({ limit: pageSize, offset });
      yield* page.items;
      offset += page.items.length;
      if (page.items.length < pageSize) return;
    }
  }

  /** A conversation with its latest messages and how far extraction of them has come. */
  conversation(conversationId: string, limit = 100): Promise<ConversationDetail> {
    return this.json("GET", `/api/chat/conversations/${segment(conversationId)}`, { query: { limit } });
  }

  async messages(conversationId: string, options: { limit?: number; before?: string | Date } = {}): Promise<Message[]> {
    const path = `/api/chat/conversations/${segment(conversationId)}/messages`;
    const page: MessagePage = await this.json("GET", path, { query: options });
    return page.items;
  }

  /** Delete a conversation, its messages and their turn memories (facts drawn from them stay). */
  async deleteConversation(conversationId: string): Promise<void> {
    await this.call("DELETE", `/api/chat/conversations/${segment(conversationId)}`);
  }

  /**
   * Import up to 1,000 messages with their own times as one conversation, or append them to
   * `conversationId`; their turns are remembered at once and facts extracted in the background
   * (see `extractionStatus`). A repeated import answers the same ids and adds nothing.
   */
  importTranscript(
    messages: TranscriptMessage[],
    options: { title?: string; conversationId?: string } = {},
  ): Promise<TranscriptImportResult> {
    const body = {
      messages: messages.map((m) => ({ ...m, created_at: isoTime(m.created_at) })),
      title: options.title,
      conversation_id: options.conversationId,
    };
    return this.json("POST", "/api/chat/conversations/import", { body });
  }

  async extractionStatus(conversationId: string): Promise<ExtractionStatus> {
    return (await this.conversation(conversationId, 1)).extraction;
  }

  /**
   * A chat turn as typed events, as they arrive: `conversation`, `context`, `token`..., `done` (or `error`).
   * An unknown conversation or an invalid message throws before the first event.
   */
  async *chat(content: string, options: ChatOptions = {}): AsyncGenerator<ChatEvent> {
    const path = options.conversationId
      ? `/api/chat/conversations/${segment(options.conversationId)}/messages/stream`
      : "/api/chat/messages/stream";
    const body: SendMessage = { content, message_id: options.messageId, name: options.name };
    const response = await this.call("POST", path, { body, accept: "text/event-stream", signal: options.signal });
    if (response.body === null) throw new JyntrixError("the stream has no body", { status: 0, code: "bad_event" });
    for await (const sent of readEvents(response.body)) {
      yield chatEvent(sent.event, sent.data);
    }
  }

  // ---------------------------------------------------------------- transport

  private async json<T>(method: string, path: string, request: Request = {}): Promise<T> {
    const response = await this.call(method, path, request);
    try {
      return (await response.json()) as T;
    } catch (error) {
      throw transportError(error, "bad_response");
    }
  }

  /** The response of a request that succeeded; an error answer throws, after the retries 429 and 503 allow. */
  private async call(method: string, path: string, request: Request = {}): Promise<Response> {
    const url = this.baseUrl + path + queryString(request.query ?? {});
    const headers: Record<string, string> = { ...this.headers, Accept: request.accept ?? "application/json" };
    if (request.body !== undefined) headers["Content-Type"] = "application/json";
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetch(url, { method, headers, body, signal: request.signal });
      } catch (error) {
        throw transportError(error);
      }
      if (response.ok) return response;
      const wait = this.delay(response, attempt);
      if (wait === null) throw await errorFromResponse(response);
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  }

  /** Seconds to wait before retrying, or null to give up. */
  private delay(response: Response, attempt: number): number | null {
    if (!RETRYABLE.has(response.status) || attempt >= this.retry.maxRetries) return null;
    const wait = retryAfterS(response.headers.get("retry-after")) ?? this.retry.defaultWaitS;
    return wait <= this.retry.maxWaitS ? wait : null;
  }
}

function chatEvent(name: string, data: string): ChatEvent {
  let event: unknown;
  try {
    event = JSON.parse(data);
  } catch (error) {
    throw transportError(error, "bad_event");
  }
  if (event === null || typeof event !== "object" || (event as { event?: unknown }).event !== name) {
    throw new JyntrixError(`unreadable ${name} event`, { status: 200, code: "bad_event" });
  }
  return event as ChatEvent;
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

function isoTime(value: string | Date): string {
  return value instanceof Date ? value.toISOString() : value;
}

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined) continue;
      params.append(key, item instanceof Date ? item.toISOString() : String(item));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}
