import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';

export type Operation = { responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
export type OpenApiDoc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: Record<string, unknown> };

/** Validates answers against the document's response schemas (JSON Schema 2020-12, OpenAPI 3.1's dialect). */
export class ResponseValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ReturnType<Ajv2020['compile']>>();
  /** method path status, for every answer validated. */
  readonly seen = new Set<string>();

  constructor(readonly doc: OpenApiDoc) {
    this.ajv.addSchema({ $id: 'openapi', components: doc.components });
  }

  /** The operation a concrete URL answers to (`/v1/hub/objects/bafy…/pin` → `/v1/hub/objects/{cid}/pin`). */
  operationOf(method: string, url: string): { path: string; operation: Operation } {
    const path = url.split('?')[0]!;
    for (const [template, operations] of Object.entries(this.doc.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      const operation = operations[method.toLowerCase()];
      if (pattern.test(path) && operation !== undefined) return { path: template, operation };
    }
    throw new Error(`${method} ${path} is not in the OpenAPI document`);
  }

  validate(method: string, url: string, status: number, contentType: string | undefined, body: string): void {
    const { path, operation } = this.operationOf(method, url);
    const response = operation.responses[String(status)];
    assert.ok(response !== undefined, `${method} ${path} answered ${status}, which the document does not list (${body.slice(0, 200)})`);
    const type = (contentType ?? '').split(';')[0]!.trim();
    const media = response.content?.[type];
    assert.ok(media !== undefined, `${method} ${path} ${status} answered ${type}, which the document does not list`);
    const key = `${method} ${path} ${status} ${type}`;
    let validate = this.compiled.get(key);
    if (validate === undefined) {
      validate = this.ajv.compile(JSON.parse(JSON.stringify(media.schema).replaceAll('"#/components/', '"openapi#/components/')) as object);
      this.compiled.set(key, validate);
    }
    if (type === 'application/json') {
      const ok = validate(JSON.parse(body));
      assert.ok(ok, `${key}: ${this.ajv.errorsText(validate.errors)}\n${body.slice(0, 400)}`);
    } else {
      assert.ok(validate(body), `${key}: ${this.ajv.errorsText(validate.errors)}`);
    }
    this.seen.add(`${method} ${path} ${status}`);
  }
}
