/** A problem+json answer (RFC 9457) or a failure to reach the API, typed so callers can branch on `status`. */
export interface ProblemDetails {
  type?: string;
  title?: string;
  detail?: string;
  instance?: string;
  errors?: { field: string; message: string }[];
}

export class AssetlineError extends Error {
  /** 0 when no HTTP answer came back (network, DNS, abort). */
  readonly status: number;
  readonly type: string | undefined;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  readonly errors: { field: string; message: string }[];

  constructor(status: number, problem: ProblemDetails, options?: { cause?: unknown }) {
    const text = problem.detail ?? problem.title ?? `HTTP ${status}`;
    // The API's detail usually names the fields already; add them only when it does not.
    const fields = (problem.errors ?? [])
      .filter((e) => !text.includes(e.message))
      .map((e) => `${e.field}: ${e.message}`)
      .join('; ');
    super(fields ? `${text} (${fields})` : text, options);
    this.name = 'AssetlineError';
    this.status = status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
  }

  /** From a response that is not ok: its problem+json body when it has one, its status line otherwise. */
  static async fromResponse(response: Response): Promise<AssetlineError> {
    return AssetlineError.fromText(
      response.status,
      await response.text().catch(() => ''),
      response.statusText,
    );
  }

  static fromText(status: number, text: string, statusText = ''): AssetlineError {
    let problem: ProblemDetails = { title: statusText || `HTTP ${status}` };
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') problem = parsed as ProblemDetails;
    } catch {
      // S3 answers XML: keep its first line of text as the detail, which names the S3 error code.
      if (text) problem = { ...problem, detail: text.replace(/\s+/g, ' ').slice(0, 300) };
    }
    return new AssetlineError(status, problem);
  }
}

/** The status of a problem openapi-fetch returned as `error`. */
export function problemError(status: number, body: unknown): AssetlineError {
  const problem = body && typeof body === 'object' ? (body as ProblemDetails) : { title: `HTTP ${status}` };
  return new AssetlineError(status, problem);
}
