// The OpenAPI document validates as OpenAPI 3.1 (@seriousme/openapi-schema-validator, offline), is consistent with errors.ts and the scopes, and /v1/docs escapes what it renders.

import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../src/errors.ts';
import { operationsOf, renderDocsPage } from '../../src/routes/docs-page.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OPENAPI_JSON_PATH, openApiJSON } from '../../src/openapi/document.ts';
import { API_ROUTES, honoPath } from '../../src/openapi/routes.ts';

interface Op {
  operationId: string;
  security: Record<string, string[]>[];
  'x-scope': string;
  'x-error-codes': string[];
  responses: Record<
    string,
    { content?: Record<string, { schema: { allOf?: { properties?: { error: { properties: { code: { enum: string[] } } } } }[] } }> }
  >;
}

/** What the Worker serves: the committed copy. */
const committed = readFileSync(path.resolve(import.meta.dirname, '../..', OPENAPI_JSON_PATH), 'utf8');
const doc = JSON.parse(committed) as Record<string, unknown>;
const ops = operationsOf(doc) as unknown as [string, string, Op][];

describe('the OpenAPI document', () => {
  it('is the one the route table builds (run `npm run openapi` after changing src/openapi/ or errors.ts)', () => {
    expect(committed === openApiJSON(), `${OPENAPI_JSON_PATH} is stale: run npm run openapi`).toBe(true);
  });
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const res = await validator.validate(structuredClone(doc));
    expect(res.errors ?? []).toEqual([]);
    expect(res.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // Every $ref resolves.
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it('is the same on every build', () => {
    expect(openApiJSON()).toBe(openApiJSON());
  });

  it('has one operation per table entry, unique operationIds', () => {
    expect(ops.length).toBe(API_ROUTES.length);
    expect(new Set(ops.map(([, , op]) => op.operationId)).size).toBe(ops.length);
    expect(ops.map(([m, p]) => `${m} ${honoPath(p)}`)).toContain('GET /v1/databases/:db/ltx/:level/:file');
  });

  it('states each scope twice, consistently: x-scope and the bearer security requirement', () => {
    expect((doc.components as { securitySchemes: Record<string, unknown> }).securitySchemes.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    for (const [method, path, op] of ops) {
      const label = `${method} ${path}`;
      expect(['none', 'read', 'write', 'admin'], label).toContain(op['x-scope']);
      expect(op.security, label).toEqual(op['x-scope'] === 'none' ? [] : [{ bearer: [op['x-scope']] }]);
    }
  });

  it("answers each error code with errors.ts's status, and lists the code → status table", () => {
    expect(doc['x-error-status']).toEqual(ERROR_STATUS);
    const description = (doc.info as { description: string }).description;
    for (const [code, status] of Object.entries(ERROR_STATUS)) expect(description).toContain(`| \`${code}\` | ${status} |`);
    for (const [method, path, op] of ops) {
      const listed: string[] = [];
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const codes = response.content?.['application/json'].schema.allOf?.[1].properties?.error.properties.code.enum ?? [];
        for (const code of codes) expect(ERROR_STATUS[code as keyof typeof ERROR_STATUS], `${method} ${path} ${code}`).toBe(Number(status));
        listed.push(...codes);
      }
      expect(listed.sort(), `${method} ${path}`).toEqual([...op['x-error-codes']].sort());
      if (op['x-scope'] !== 'none') expect(listed).toEqual(expect.arrayContaining(['UNAUTHORIZED', 'FORBIDDEN']));
    }
  });
});

describe('the docs page', () => {
  it('escapes everything it takes from the document', () => {
    const evil = '<script>alert(1)</script>';
    const html = renderDocsPage({
      info: { title: evil, version: '"1"', description: `**${evil}** \`${evil}\`` },
      paths: {
        '/x/{y}': {
          get: {
            summary: evil,
            description: evil,
            parameters: [{ name: evil, in: 'query', schema: { type: 'string', pattern: evil } }],
            responses: { 200: { description: evil } },
          },
        },
      },
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it('lists every operation of the real document in its index', () => {
    const html = renderDocsPage(doc);
    for (const [method, path] of ops) {
      expect(html, 'index row').toContain(`<code>${path}</code></a>`);
      expect(html, 'section').toContain(`${method}</span> <code>${path}</code></h3>`);
    }
  });
});
