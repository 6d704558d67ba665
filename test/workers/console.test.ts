// GET /ui/: the web console's assets through the Worker — redirect, types, CSP and the other security headers, ETag/304, JSON 404, no token.
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app.ts';
import type { Env } from '../../src/env.ts';
import assets from '../../src/routes/console-assets.json' with { type: 'json' };
import { CONSOLE_CSP } from '../../src/routes/console.ts';

const BASE = 'https://ltx-edge.test';

function get(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(`${BASE}${path}`, init);
}

describe('GET /ui', () => {
  it('redirects to /ui/ (301)', async () => {
    const res = await get('/ui', { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(new URL(res.headers.get('location')!, BASE).pathname).toBe('/ui/');
  });
});

describe('the console assets', () => {
  const cases = [
    { path: '/ui/', type: 'text/html; charset=UTF-8', body: assets['index.html'] },
    { path: '/ui/console.js', type: 'text/javascript; charset=UTF-8', body: assets['console.js'] },
    { path: '/ui/console.css', type: 'text/css; charset=UTF-8', body: assets['console.css'] },
  ];
  for (const { path, type, body } of cases) {
    it(`${path}: the committed asset, its type, the CSP and the other headers, no token needed`, async () => {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
      expect(await res.text()).toBe(body);
    });

    it(`${path}: If-None-Match with its ETag (strong or weak) → 304 without a body; another tag → 200`, async () => {
      const etag = (await get(path)).headers.get('etag')!;
      for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const res = await get(path, { headers: { 'if-none-match': header } });
        expect(res.status, header).toBe(304);
        expect(res.headers.get('etag')).toBe(etag);
        expect(await res.text()).toBe('');
      }
      expect((await get(path, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
    });
  }

  it('HEAD /ui/ answers the headers without the body', async () => {
    const res = await get('/ui/', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    expect(await res.text()).toBe('');
  });

  it('the page has no inline script or style (the CSP forbids them)', () => {
    const html = assets['index.html'];
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\bsrc="/);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    expect(assets['console.js']).not.toMatch(/\.innerHTML\s*=|setAttribute\("style"/);
  });

  it('ignores a token it does not need, even a wrong one', async () => {
    const res = await get('/ui/', { headers: { authorization: 'Bearer not-a-token' } });
    expect(res.status).toBe(200);
  });

  it('is served when the Worker is not configured (production without tokens)', async () => {
    const production: Env = { ...env, LTX_EDGE_ENV: 'production', LTX_EDGE_TOKENS: undefined };
    expect((await app.request('/ui/', {}, production)).status).toBe(200);
    expect((await app.request('/v1/databases', {}, production)).status).toBe(503);
  });
});

describe('anything else under /ui/', () => {
  for (const [method, path] of [
    ['GET', '/ui/nope.js'],
    ['GET', '/ui/favicon.ico'],
    ['GET', '/ui/console.js/x'],
    ['POST', '/ui/'],
  ]) {
    it(`${method} ${path} → 404 NOT_FOUND as JSON`, async () => {
      const res = await get(path, { method });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    });
  }
});
