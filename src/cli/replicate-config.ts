// `ltx-edge replicate --config <file.yml>`: the databases one agent process follows, read from YAML with ${VAR} and $VAR expanded as Litestream does.

import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { UsageError } from './cli-errors.ts';
import { type FollowSpec, defaultDatabaseName } from './replicate-spec.ts';

/** What the file may say; anything else is refused, naming the key. */
const TOP_KEYS = ['url', 'token', 'interval', 'databases'] as const;
const DATABASE_KEYS = ['path', 'db', 'url', 'token', 'interval'] as const;

/** Most databases one process follows (each holds three SQLite connections and a descriptor). */
export const MAX_CONFIG_DATABASES = 1_000;

/**
 * Expands `${VAR}` and `$VAR` from `env` exactly as Go's os.ExpandEnv, which Litestream applies to its
 * config file before parsing it: an unset variable is the empty string; `$` then one of `*#$@!?-` or a
 * digit is a one-character name (`$5` → the variable "5", so empty); `${}` and an unclosed `${` are
 * dropped; a `$` before anything else, or at the end, stays.
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0 || dollar === text.length - 1) return out + text.slice(i);
    out += text.slice(i, dollar);
    const { name, width } = shellName(text.slice(dollar + 1));
    if (name !== '') out += env[name] ?? '';
    else if (width === 0) out += '$';
    i = dollar + 1 + width;
  }
  return out;
}

const SPECIAL = /^[*#$@!?\-0-9]/;

/** Go's getShellName: the variable name after a `$` and how many characters it took (a name of '' with width > 0: bad syntax, dropped). */
function shellName(s: string): { name: string; width: number } {
  if (s[0] === '{') {
    if (s.length > 2 && SPECIAL.test(s[1]) && s[2] === '}') return { name: s[1], width: 3 };
    const close = s.indexOf('}', 1);
    if (close < 0) return { name: '', width: 1 };
    return close === 1 ? { name: '', width: 2 } : { name: s.slice(1, close), width: close + 1 };
  }
  if (SPECIAL.test(s)) return { name: s[0], width: 1 };
  const word = /^[A-Za-z0-9_]*/.exec(s)![0];
  return { name: word, width: word.length };
}

/**
 * The databases of a config file. `defaults` are what the command line and the environment give
 * (--url / $LTX_EDGE_URL, --token / $LTX_EDGE_TOKEN, --interval); the file's top-level keys override
 * them and each database's own keys override those. UsageError (exit 2) naming the file and the key
 * for anything wrong.
 */
export async function readReplicateConfig(
  file: string,
  defaults: { url?: string; token?: string; intervalMs: number },
  parseInterval: (text: string) => number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FollowSpec[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the config file ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(expandEnv(text, env), { uniqueKeys: true });
  } catch (e) {
    throw new UsageError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const bad = (where: string, message: string): never => {
    throw new UsageError(`${file}: ${where}: ${message}`);
  };
  const top = asObject(doc, 'the file', TOP_KEYS, bad);
  const url = optionalString(top, 'url', 'the file', bad) ?? defaults.url;
  const token = optionalString(top, 'token', 'the file', bad) ?? defaults.token;
  const interval = optionalString(top, 'interval', 'the file', bad);
  const intervalMs = interval === undefined ? defaults.intervalMs : intervalOf(interval, 'interval', parseInterval, bad);
  if (!Array.isArray(top.databases) || top.databases.length === 0)
    bad('databases', 'a list of at least one {path, db?, url?, token?, interval?}');
  const list = top.databases as unknown[];
  if (list.length > MAX_CONFIG_DATABASES) bad('databases', `at most ${MAX_CONFIG_DATABASES} in one process, got ${list.length}`);
  const specs = list.map((entry, i): FollowSpec => {
    const where = `databases[${i}]`;
    const d = asObject(entry, where, DATABASE_KEYS, bad);
    const path = optionalString(d, 'path', where, bad);
    if (path === undefined || path === '') return bad(`${where}.path`, 'the SQLite file is required');
    const dbUrl = optionalString(d, 'url', where, bad) ?? url;
    if (dbUrl === undefined || dbUrl === '')
      return bad(`${where}.url`, 'no server URL: give url (here or at the top), --url or $LTX_EDGE_URL');
    if (!/^https?:\/\/./i.test(dbUrl)) return bad(`${where}.url`, `must be an http(s) URL, got ${JSON.stringify(dbUrl)}`);
    const own = optionalString(d, 'interval', where, bad);
    return {
      path,
      db: optionalString(d, 'db', where, bad) || defaultDatabaseName(path),
      url: dbUrl,
      token: optionalString(d, 'token', where, bad) || token || undefined,
      intervalMs: own === undefined ? intervalMs : intervalOf(own, `${where}.interval`, parseInterval, bad),
    };
  });
  for (const [key, label] of [
    ['path', 'file'],
    ['db', 'database name'],
  ] as const) {
    const seen = new Map<string, number>();
    for (const [i, s] of specs.entries()) {
      const id = key === 'db' ? `${s.url} ${s.db}` : s.path;
      const first = seen.get(id);
      if (first !== undefined) bad(`databases[${i}].${key}`, `the same ${label} as databases[${first}]: ${JSON.stringify(s[key])}`);
      seen.set(id, i);
    }
  }
  return specs;
}

type Refuse = (where: string, message: string) => never;

function asObject(v: unknown, where: string, keys: readonly string[], bad: Refuse): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad(where, 'expected a mapping of keys to values');
  for (const key of Object.keys(v)) if (!keys.includes(key)) bad(where, `unknown key ${JSON.stringify(key)} (known: ${keys.join(', ')})`);
  return v as Record<string, unknown>;
}

/** A string value; numbers are taken as their text (YAML reads `db: 2024` as a number). */
function optionalString(o: Record<string, unknown>, key: string, where: string, bad: Refuse): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return bad(`${where}.${key}`, `expected a string, got ${Array.isArray(v) ? 'a list' : typeof v}`);
}

function intervalOf(text: string, where: string, parseInterval: (text: string) => number, bad: Refuse): number {
  try {
    return parseInterval(text);
  } catch (e) {
    return bad(where, (e as Error).message);
  }
}
