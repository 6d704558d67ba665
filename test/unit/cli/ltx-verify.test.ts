// `ltx verify`: every reference file passes; a run stops at the first invalid file with its codec code.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCLI, runCLIJSON } from '../../helpers/run-cli.ts';
import { VECTORS_DIR, loadManifest } from '../../helpers/vectors.ts';
import { NEGATIVE_CODES } from '../../helpers/negative-codes.ts';

const manifest = loadManifest();
const vector = (rel: string): string => path.join(VECTORS_DIR, rel);

interface VerifyEntry {
  file: string;
  ok: boolean;
  code?: string;
  message?: string;
}

const GOOD = vector('block-ps4096/0000000000000001-0000000000000001.ltx');
const GOOD2 = vector('block-ps4096/0000000000000002-0000000000000002.ltx');

describe('ltx verify --json', () => {
  it('passes every reference file, exit 0', () => {
    const files = manifest.files.map((f) => vector(f.path));
    const r = runCLIJSON<VerifyEntry[]>(['ltx', 'verify', '--json', ...files]);
    expect(r.status).toBe(0);
    expect(r.json).toEqual(files.map((file) => ({ file, ok: true })));
  });

  it('covers every negative vector in the manifest', () => {
    expect(Object.keys(NEGATIVE_CODES).sort()).toEqual(manifest.negative.map((n) => n.path).sort());
  });

  it.each(Object.entries(NEGATIVE_CODES))('%s → %s, and stops there', (rel, code) => {
    const r = runCLIJSON<VerifyEntry[]>(['ltx', 'verify', '--json', GOOD, vector(rel), GOOD2]);
    expect(r.status).toBe(1);
    expect(r.json).toHaveLength(2);
    expect(r.json[0]).toEqual({ file: GOOD, ok: true });
    expect(r.json[1]).toMatchObject({ file: vector(rel), ok: false, code });
    expect(typeof r.json[1].message).toBe('string');
  });

  it('reports an unreadable file as ENOENT and stops', () => {
    const missing = vector('no-such-file.ltx');
    const r = runCLIJSON<VerifyEntry[]>(['ltx', 'verify', '--json', missing, GOOD]);
    expect(r.status).toBe(1);
    expect(r.json).toEqual([{ file: missing, ok: false, code: 'ENOENT', message: expect.any(String) }]);
  });
});

describe('ltx verify (human output)', () => {
  it('prints ok per file, then FAIL with the code, exit 1', () => {
    const bad = vector('negative/truncated.ltx');
    const r = runCLI(['ltx', 'verify', GOOD, bad, GOOD2]);
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`ok  ${GOOD}`);
    expect(lines[1]).toMatch(new RegExp(`^FAIL ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: LTX_TRUNCATED `));
  });

  it('exits 0 when all files are valid', () => {
    const r = runCLI(['ltx', 'verify', GOOD, GOOD2]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`ok  ${GOOD}\nok  ${GOOD2}\n`);
  });
});
