// replicate --config: ${VAR}/$VAR expansion as Go's os.ExpandEnv, defaults from the command line, per-database overrides, and every refusal naming the file and key.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text, ${VAR} in them on purpose

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandEnv, readReplicateConfig } from '../../../src/cli/replicate-config.ts';
import { parseInterval } from '../../../src/cli/replicate.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ltx-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(yaml: string, env: NodeJS.ProcessEnv = {}, defaults: { url?: string; token?: string } = {}) {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  return readReplicateConfig(file, { ...defaults, intervalMs: 1000 }, parseInterval, env);
}

describe("expandEnv: Go's os.ExpandEnv, as Litestream reads its config", () => {
  const env = { A: 'x', B_2: 'y', EMPTY: '', '5': 'five' };
  it.each([
    ['${A}', 'x'],
    ['$A', 'x'],
    ['$B_2-$A', 'y-x'],
    ['${MISSING}', ''],
    ['$MISSING', ''],
    ['${EMPTY}', ''],
    ['$5 and $6', 'five and '],
    ['a $ b', 'a $ b'],
    ['ends with $', 'ends with $'],
    ['$$A', 'A'],
    ['${A}${A}', 'xx'],
    ['${}x', 'x'],
    ['${A', 'A'],
    ['${5}', 'five'],
    ['${A B}', ''],
    ['p@$$w0rd', 'p@w0rd'],
  ])('%s → %s', (text, want) => expect(expandEnv(text, env)).toBe(want));
});

describe('readReplicateConfig', () => {
  it('top-level defaults, per-database overrides, names from file names', async () => {
    const specs = await config(
      'url: http://a.example\ntoken: $T\ninterval: 2s\ndatabases:\n  - path: /d/app.db\n  - path: /d/jobs.sqlite3\n    db: jobs\n    url: http://b.example\n    token: other\n    interval: 250ms\n',
      { T: 'secret' },
    );
    expect(specs).toEqual([
      { path: '/d/app.db', db: 'app', url: 'http://a.example', token: 'secret', intervalMs: 2000 },
      { path: '/d/jobs.sqlite3', db: 'jobs', url: 'http://b.example', token: 'other', intervalMs: 250 },
    ]);
  });

  it('the command line gives the defaults the file does not', async () => {
    const specs = await config('databases:\n  - path: a.db\n    db: 2024\n', {}, { url: 'http://flag.example', token: 'tok' });
    expect(specs).toEqual([{ path: 'a.db', db: '2024', url: 'http://flag.example', token: 'tok', intervalMs: 1000 }]);
  });

  it('an empty token means none', async () => {
    const specs = await config('url: http://a\ntoken: ${NOPE}\ndatabases:\n  - path: a.db\n');
    expect(specs[0].token).toBeUndefined();
  });

  it.each([
    ['a list at the top', '- a\n', /the file: expected a mapping/],
    ['a database that is a string', 'url: http://a\ndatabases:\n  - a.db\n', /databases\[0\]: expected a mapping/],
    ['a list for a string', 'url: http://a\ndatabases:\n  - path: [a, b]\n', /databases\[0\]\.path: expected a string, got a list/],
    ['an ftp URL', 'url: ftp://a\ndatabases:\n  - path: a.db\n', /databases\[0\]\.url: must be an http\(s\) URL/],
    [
      'the same file twice',
      'url: http://a\ndatabases:\n  - path: a.db\n    db: x\n  - path: a.db\n    db: y\n',
      /databases\[1\]\.path: the same file/,
    ],
    [
      'an interval too short',
      'url: http://a\ndatabases:\n  - path: a.db\n    interval: 1ms\n',
      /databases\[0\]\.interval: interval out of range/,
    ],
    ['a key twice', 'url: http://a\nurl: http://b\ndatabases:\n  - path: a.db\n', /not valid YAML/],
  ])('%s: refused, naming where', async (_what, yaml, message) => {
    await expect(config(yaml)).rejects.toThrow(message);
  });

  it('a file that cannot be read', async () => {
    await expect(readReplicateConfig(path.join(dir, 'none.yml'), { intervalMs: 1000 }, parseInterval, {})).rejects.toThrow(
      /cannot read the config file/,
    );
  });
});
