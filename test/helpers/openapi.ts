import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';
import { request, type JsonResponse } from './http';

type Json = Record<string, unknown>;
type Document = Json & { paths: Record<string, Record<string, Json>> };

const DOCUMENT_ID = 'urn:assetline:openapi';
const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete'];

/** A JSON Pointer into the document as a URI fragment: `/` and `~` escaped, then percent-encoded. */
const pointer = (segments: string[]) =>
  `${DOCUMENT_ID}#/${segments.map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')}`;

export interface CallOptions {
  params?: Record<string, string>;
  /** Appended to the path as is, e.g. `?limit=5`. */
  query?: string;
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * The API's own description (GET /openapi.json) and a client that holds every answer to it: the status must be
 * documented for that operation, errors must be application/problem+json, and JSON bodies must match the schema.
 */
export class ApiContract {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  private constructor(
    readonly baseUrl: string,
    readonly document: Document,
  ) {
    addFormats(this.ajv);
    // The document is added whole so that schemas resolve their #/components/... references inside it.
    this.ajv.addVocabulary(Object.keys(document));
    this.ajv.addSchema(document, DOCUMENT_ID);
  }

  static async load(baseUrl: string): Promise<ApiContract> {
    const res = await request('GET', `${baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    return new ApiContract(baseUrl, res.body as Document);
  }

  /** `METHOD /path/{param}` for every operation the document describes. */
  operations(): string[] {
    return Object.entries(this.document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
  }

  /** Compiles every schema in the document (strict mode: unknown keywords and bad formats are errors). */
  compileEverySchema(): number {
    let count = 0;
    const visit = (node: unknown, at: string[]) => {
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'schema' && at.length > 0) {
          this.validator([...at, key]);
          count += 1;
        } else if (key !== 'components') visit(value, [...at, key]);
      }
    };
    visit(this.document, []);
    for (const name of Object.keys((this.document.components as { schemas: Json }).schemas)) {
      this.validator(['components', 'schemas', name]);
      count += 1;
    }
    return count;
  }

  /** Sends a request to a documented path template (its `{params}` filled in) and checks the answer. */
  async call<T = Record<string, unknown>>(
    method: string,
    template: string,
    opts: CallOptions = {},
  ): Promise<JsonResponse<T>> {
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = opts.params?.[name];
      if (value === undefined) throw new Error(`no value for {${name}} in ${template}`);
      return encodeURIComponent(value);
    });
    const res = await request<T>(method, `${this.baseUrl}${path}${opts.query ?? ''}`, {
      ...opts,
      redirect: 'manual',
    });
    this.check(method, template, res);
    return res;
  }

  check(method: string, template: string, res: JsonResponse<unknown>): void {
    const what = `${method} ${template} → ${res.status} ${JSON.stringify(res.body)}`;
    const operation = this.document.paths[template]?.[method.toLowerCase()] as
      { responses: Record<string, { content?: Record<string, unknown> }> } | undefined;
    expect(operation, `${method} ${template} is not documented`).toBeDefined();
    const response = operation!.responses[String(res.status)];
    expect(response, `undocumented status: ${what}`).toBeDefined();
    const contentType = res.headers.get('content-type') ?? '';
    if (res.status >= 400) expect(contentType, what).toMatch(/^application\/problem\+json/);
    const jsonTypes = Object.keys(response!.content ?? {}).filter((t) => t.endsWith('json'));
    if (jsonTypes.length === 0 || method === 'HEAD') return;
    const mediaType = jsonTypes.find((t) => contentType.startsWith(t));
    expect(mediaType, `content type ${contentType} is not documented: ${what}`).toBeDefined();
    const validate = this.validator([
      'paths',
      template,
      method.toLowerCase(),
      'responses',
      String(res.status),
      'content',
      mediaType!,
      'schema',
    ]);
    expect(validate(res.body) ? [] : validate.errors, what).toEqual([]);
  }

  private validator(segments: string[]): ValidateFunction {
    const ref = pointer(segments);
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, validate);
    }
    return validate;
  }
}
