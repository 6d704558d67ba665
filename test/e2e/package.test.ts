// The npm package as a user gets it: `npm pack`, installed into an empty project, gives `npx ltx-edge` (compiled JavaScript) and `ltx-edge/client` with types, against the real local platform.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_TOKEN, type DevServer, startDevServer } from '../helpers/dev-server.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const NPM_CLI = path.join(path.dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js');
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  engines: { node: string };
};

let dir = '';
let project = '';
let tarball = '';
let server: DevServer;

/** npm with this process's Node (24) first on PATH, so `#!/usr/bin/env node` scripts run on it too. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`;
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, PATH, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...env },
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} → ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function npm(args: string[], cwd: string): string {
  return run(process.execPath, [npmCli(), ...args], cwd);
}

/** The npm that came with the `node` package's Node if there is one, else the one on PATH. */
function npmCli(): string {
  try {
    readFileSync(NPM_CLI);
    return NPM_CLI;
  } catch {
    return execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' })
      .trim()
      .replace(/\/bin\/npm$/, '/lib/node_modules/npm/bin/npm-cli.js');
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-edge-package-'));
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], REPO)) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(dir, packed[0].filename);
  project = path.join(dir, 'app');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
  server = await startDevServer();
}, 240_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack → npm install into an empty project', () => {
  it('the tarball holds the compiled package only: dist/, package.json, README, LICENSE; no TypeScript sources', () => {
    const listed = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    for (const f of listed) expect(f, f).toMatch(/^package\/(dist\/.+\.(js|d\.ts)|package\.json|README\.md|LICENSE)$/);
    expect(listed).toContain('package/dist/cli.js');
    expect(listed).toContain('package/dist/client.js');
    expect(listed).toContain('package/dist/types/client/index.d.ts');
    const installed = JSON.parse(readFileSync(path.join(project, 'node_modules/ltx-edge/package.json'), 'utf8')) as {
      engines: unknown;
      dependencies: Record<string, string>;
    };
    expect(installed.engines).toEqual({ node: '>=24' });
    // What the Worker bundles (hono, zod, chrono-node) is not a dependency of the package.
    expect(Object.keys(installed.dependencies)).toEqual(['@journeyapps/wa-sqlite']);
  });

  it('npx ltx-edge runs the compiled CLI: --version, and import + restore against the platform', () => {
    expect(run('npx', ['--no-install', 'ltx-edge', '--version'], project).trim()).toBe(pkg.version);
    const file = path.join(dir, 'small.db');
    const db = new DatabaseSync(file);
    db.exec(
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO t (v) SELECT 'row ' || i FROM n;",
    );
    db.close();
    const imported = JSON.parse(
      run('npx', ['--no-install', 'ltx-edge', 'import', server.url, 'packaged', file, '--json', '--token', DEV_TOKEN], project),
    ) as { pos: { txid: string } };
    expect(imported.pos.txid).toBe('0000000000000001');
    const out = path.join(dir, 'restored.db');
    run('npx', ['--no-install', 'ltx-edge', 'restore', server.url, 'packaged', '-o', out, '--verify', '--token', DEV_TOKEN], project);
    expect(Buffer.compare(readFileSync(out), readFileSync(file))).toBe(0);
    // The bundled libraries of replicate --config (yaml) and --metrics-addr (prom-client) load from the package.
    const config = path.join(dir, 'replicate.yml');
    writeFileSync(config, `url: ${server.url}\ntoken: $PACKAGE_TEST_TOKEN\ndatabases:\n  - path: ${out}\n    db: packaged-copy\n`);
    const lines = run(
      'npx',
      ['--no-install', 'ltx-edge', 'replicate', '--config', config, '--once', '--json', '--metrics-addr', '127.0.0.1:0'],
      project,
      {
        PACKAGE_TEST_TOKEN: DEV_TOKEN,
      },
    );
    const events = lines
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; db?: string });
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['metrics', 'start', 'push', 'stop']));
  });

  it("import { RemoteDatabase } from 'ltx-edge/client' queries the platform", () => {
    writeFileSync(
      path.join(project, 'query.mjs'),
      [
        "import { RemoteDatabase, ClientError } from 'ltx-edge/client';",
        `const db = await RemoteDatabase.open({ url: ${JSON.stringify(server.url)}, token: ${JSON.stringify(DEV_TOKEN)}, db: 'packaged' });`,
        "const { rows } = await db.query('SELECT count(*), max(v) FROM t');",
        'console.log(JSON.stringify({ rows, txid: String(db.txid), error: typeof ClientError }));',
        'db.close();',
      ].join('\n'),
    );
    const out = JSON.parse(run(process.execPath, ['query.mjs'], project)) as { rows: unknown[][]; txid: string; error: string };
    expect(out).toEqual({ rows: [[500, 'row 99']], txid: '1', error: 'function' });
  });

  it('its types check in a strict TypeScript project, and are real types (a wrong call is an error)', () => {
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          lib: ['ES2023', 'DOM'],
          types: ['node'],
          typeRoots: [path.join(REPO, 'node_modules/@types')],
        },
        files: ['check.ts'],
      }),
    );
    writeFileSync(
      path.join(project, 'check.ts'),
      [
        "import { ConflictError, RemoteDatabase, type QueryResult } from 'ltx-edge/client';",
        'export async function count(): Promise<number> {',
        "  const db = await RemoteDatabase.open({ url: 'http://localhost:8787', token: 't', db: 'demo' });",
        "  const r: QueryResult = await db.query('SELECT count(*) FROM t');",
        '  const txid: bigint = db.txid;',
        '  // @ts-expect-error: the options are an object, not a URL string',
        "  await RemoteDatabase.open('http://localhost:8787');",
        '  db.close();',
        '  return r.rows.length + Number(txid);',
        '}',
        'export const isConflict = (e: unknown): e is ConflictError => e instanceof ConflictError;',
      ].join('\n'),
    );
    run(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', project], project);
  });
});
