/**
 * The API's shapes under their own names, taken from the types generated from its OpenAPI document
 * (schema.ts, `make typescript`). Times are ISO 8601 strings, as the JSON carries them.
 */

import type { components } from "./schema.js";

type Schemas = components["schemas"];

export type Memory = Schemas["Memory"];
export type MemoryType = Schemas["MemoryType"];
export type MemoryKind = Schemas["MemoryKind"];
export type MemoryChange = Schemas["MemoryChange"];
export type Relation = Schemas["Relation"];
export type MemoryIn = Schemas["MemoryIn"];
export type MemoryPatch = Schemas["MemoryPatch"];
export type MemoryPage = Schemas["MemoryPage"];
export type HistoryResponse = Schemas["HistoryResponse"];
export type SearchRequest = Schemas["SearchRequest"];
export type SearchResponse = Schemas["SearchResponse"];
export type SearchResult = Schemas["SearchResult"];
export type ScoreBreakdown = Schemas["ScoreBreakdown"];
export type Signals = Schemas["Signals"];
export type StrategyOutcome = Schemas["StrategyOutcome"];
export type MemoryImportResult = Schemas["MemoryImportResult"];
export type AccountExport = Schemas["AccountExport"];
/** The name this package first gave the export. */
export type MemoryExport = AccountExport;
export type RestoreReport = Schemas["RestoreReport"];
export type Remembered = Schemas["Remembered"];
export type ForgetResult = Schemas["ForgetResult"];
export type ProfileView = Schemas["ProfileView"];
export type ProfilePatch = Schemas["ProfilePatch"];
export type Conversation = Schemas["Conversation"];
export type ConversationPage = Schemas["ConversationPage"];
export type ConversationDetail = Schemas["ConversationDetail"];
export type ExtractionStatus = Schemas["ExtractionStatus"];
export type Message = Schemas["Message"];
export type MessagePage = Schemas["MessagePage"];
export type SendMessage = Schemas["SendMessage"];
export type TranscriptMessageIn = Schemas["TranscriptMessageIn"];
export type TranscriptImportResult = Schemas["TranscriptImportResult"];
export type Problem = Schemas["Problem"];
export type FieldError = Schemas["FieldError"];

/** The events of a streamed chat turn; `event` is also the SSE event's name. */
export type ConversationEvent = Schemas["ConversationEvent"];
export type ContextEvent = Schemas["ContextEvent"];
export type ContextItem = Schemas["ContextItem"];
export type TokenEvent = Schemas["TokenEvent"];
export type DoneEvent = Schemas["DoneEvent"];
export type ErrorEvent = Schemas["ErrorEvent"];
export type ChatEvent = ConversationEvent | ContextEvent | TokenEvent | DoneEvent | ErrorEvent;

/** A transcript message as `importTranscript` takes it: `created_at` as an ISO string or a Date. */
export type TranscriptMessage = Omit<TranscriptMessageIn, "created_at"> & { created_at: string | Date };
