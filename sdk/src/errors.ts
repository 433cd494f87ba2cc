/** A failed API call: the HTTP status and the API's `{ error: { code, message, details } }`. */
export class MailroomError extends Error {
  override readonly name = 'MailroomError';
  /** HTTP status (0 when the server could not be reached or did not answer JSON as expected). */
  readonly status: number;
  /** The API's error code, e.g. `not_found`, `rate_limited`. */
  readonly code: string;
  readonly details: unknown;
  /** Seconds to wait before trying again (from `Retry-After` on 429 and 503), else null. */
  readonly retryAfter: number | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: unknown = undefined,
    retryAfter: number | null = null,
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

/** Build the error for a non-2xx response from its status, headers and body text. */
export function errorFromResponse(status: number, headers: Headers, text: string): MailroomError {
  const ra = headers.get('retry-after');
  const retryAfter = ra !== null && /^\d+$/.test(ra.trim()) ? Number(ra.trim()) : null;
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const e = body.error;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') {
      return new MailroomError(status, e.code, e.message, e.details, retryAfter);
    }
  } catch {
    // Not JSON (a proxy page, an empty body): keep the status and the text.
  }
  return new MailroomError(status, `http_${status}`, text.slice(0, 200) || `HTTP ${status}`, undefined, retryAfter);
}
