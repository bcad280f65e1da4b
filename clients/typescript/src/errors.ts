/** Error answers (RFC 9457 problem documents) and transport failures, as one error class. */

import type { FieldError, Problem } from "./types.js";

/** An error answer from the API: `status`, the problem's `code`, and the `requestId` to quote in a report. */
export class JyntrixError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;
  readonly errors: FieldError[];
  readonly retryAfterS: number | null;

  constructor(
    message: string,
    options: {
      status: number;
      code: string;
      requestId?: string | null;
      errors?: FieldError[] | null;
      retryAfterS?: number | null;
      cause?: unknown;
    },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "JyntrixError";
    this.status = options.status;
    this.code = options.code;
    this.requestId = options.requestId ?? null;
    this.errors = options.errors ?? [];
    this.retryAfterS = options.retryAfterS ?? null;
  }
}

/** The error for an error answer; a body that is not a problem document (a proxy's page) still gives one. */
export async function errorFromResponse(response: Response): Promise<JyntrixError> {
  const text = await response.text();
  let problem: Partial<Problem> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
      problem = parsed as Partial<Problem>;
    }
  } catch {
    problem = { detail: text.slice(0, 500) || null };
  }
  const status = response.status;
  return new JyntrixError(problem.detail || problem.title || `HTTP ${status}`, {
    status,
    code: typeof problem.code === "string" ? problem.code : `http_${status}`,
    requestId: problem.request_id ?? response.headers.get("x-request-id"),
    errors: Array.isArray(problem.errors) ? problem.errors : [],
    retryAfterS: typeof problem.retry_after_s === "number" ? problem.retry_after_s : null,
  });
}

/** A failure to reach the server, or an answer that cannot be read, with status 0. */
export function transportError(error: unknown, code = "transport"): JyntrixError {
  let message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // fetch's own message is only "fetch failed": the reason (refused, reset, DNS) is its cause.
  if (error instanceof Error && error.cause instanceof Error) message += ` (${error.cause.message})`;
  return new JyntrixError(message, { status: 0, code, cause: error });
}
