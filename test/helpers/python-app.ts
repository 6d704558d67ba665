// An application in its own process, on Python's sqlite3 (another SQLite build, real cross-process locks), driven one command at a time.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** The driver: one JSON command per stdin line, one JSON answer per stdout line. */
// biome-ignore lint/complexity/noUselessStringRaw: Python source: kept raw so a backslash added later stays Python's
const DRIVER = String.raw`
import json, random, sqlite3, sys
conn = None

def workload(n, seed):
    r = random.Random(seed)
    for i in range(n):
        roll = r.randrange(1000)
        conn.execute('BEGIN IMMEDIATE')
        if roll < 600:
            conn.execute('INSERT INTO items (name, qty, body) VALUES (?, ?, ?)', ('item-%d' % r.randrange(5000), r.randrange(1000), r.randbytes(20 + r.randrange(200))))
        elif roll < 800:
            top = conn.execute('SELECT coalesce(max(id), 0) FROM items').fetchone()[0]
            conn.execute('UPDATE items SET qty = qty + ?, name = ? WHERE id = ?', (1 + r.randrange(9), 'item-%d' % r.randrange(5000), 1 + r.randrange(top + 1)))
        elif roll < 900:
            conn.execute('DELETE FROM items WHERE id = (SELECT max(id) FROM items) - ?', (r.randrange(50),))
        elif roll < 970:
            conn.executemany('INSERT INTO items (name, qty, body) VALUES (?, ?, ?)', [('bulk-%d' % r.randrange(100000), k, r.randbytes(r.randrange(64))) for k in range(10 + r.randrange(100))])
        elif roll < 985:
            conn.execute('INSERT INTO items (name, qty, body) VALUES (?, ?, ?)', ('blob-%d' % i, -1, r.randbytes(20000 + r.randrange(60000))))
        else:
            conn.execute('DELETE FROM items WHERE id % 7 = ?', (r.randrange(7),))
        conn.execute('COMMIT')

for line in sys.stdin:
    cmd = json.loads(line)
    op = cmd['op']
    try:
        result = None
        if op == 'open':
            conn = sqlite3.connect(cmd['file'], timeout=cmd.get('timeout', 5), isolation_level=None, uri=cmd.get('uri', False))
        elif op == 'exec':
            result = [list(row) for row in conn.execute(cmd['sql'], cmd.get('params', [])).fetchall()]
        elif op == 'script':
            conn.executescript(cmd['sql'])
        elif op == 'write':
            workload(cmd['n'], cmd['seed'])
        elif op == 'close':
            conn.close()
            conn = None
        else:
            raise ValueError('unknown op ' + op)
        print(json.dumps({'ok': True, 'result': result}), flush=True)
    except sqlite3.Error as e:
        if conn is not None and conn.in_transaction:
            conn.execute('ROLLBACK')
        print(json.dumps({'ok': False, 'error': str(e), 'code': getattr(e, 'sqlite_errorname', None)}), flush=True)
`;

/** The schema `write` works on (items with blobs, an index), for `script`. */
export const APP_SCHEMA = `PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, body BLOB);
CREATE INDEX IF NOT EXISTS items_by_name ON items (name);`;

/** A failed command: SQLite's error name (`SQLITE_BUSY`, …) and message. */
export class AppError extends Error {
  readonly code: string | null;
  constructor(code: string | null, message: string) {
    super(message);
    this.code = code;
  }
}

export class PythonApp {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  constructor() {
    this.child = spawn('python3', ['-u', '-c', DRIVER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  private async call(cmd: Record<string, unknown>): Promise<unknown> {
    this.child.stdin.write(JSON.stringify(cmd) + '\n');
    const r = await this.lines.next();
    if (r.done) throw new Error(`the Python application exited: ${this.stderr}`);
    const answer = JSON.parse(r.value) as { ok: boolean; result?: unknown; error?: string; code?: string | null };
    if (!answer.ok) throw new AppError(answer.code ?? null, answer.error ?? 'unknown error');
    return answer.result;
  }

  /** Opens `file` (a `file:` URI when `uri`); `timeout` is the busy timeout in seconds. */
  open(file: string, opts: { timeout?: number; uri?: boolean } = {}): Promise<unknown> {
    return this.call({ op: 'open', file, ...opts });
  }

  exec(sql: string, params: unknown[] = []): Promise<unknown[][]> {
    return this.call({ op: 'exec', sql, params }) as Promise<unknown[][]>;
  }

  script(sql: string): Promise<unknown> {
    return this.call({ op: 'script', sql });
  }

  /** `n` seeded transactions on the APP_SCHEMA tables, each committed on its own. */
  write(n: number, seed: number): Promise<unknown> {
    return this.call({ op: 'write', n, seed });
  }

  close(): Promise<unknown> {
    return this.call({ op: 'close' });
  }

  /** Ends the process (its connection, if open, is closed by Python on exit). */
  async exit(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.stdin.end();
    await exited;
  }
}
