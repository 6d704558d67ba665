// `npm run dev`: wrangler dev (offline, extra args passed through), then the `demo` database seeded once.
//
//   npm run dev                      # http://localhost:8787
//   npm run dev -- --port 8788       # any wrangler dev flag after --
//   LTX_EDGE_DEV_SEED=0 npm run dev  # no demo database
//   LTX_EDGE_DEV_HISTORY_MS=2000 npm run dev  # the demo's later transactions every 2 s (default 15000)
//
// Seeding talks to the server with LTX_EDGE_TOKEN, else the documented dev token; a failure is printed
// and the server keeps running. Ctrl-C / SIGTERM go to wrangler, and this process exits with it.

import { DEMO_DB, type SeedOutcome, seedDemo, tryThis } from './lib/demo-seed.ts';
import { portFromArgs, spawnWranglerDev, waitForHealth } from './lib/wrangler-dev.ts';

/** The token of .dev.vars; documented in the README, not a secret. */
const DEV_TOKEN = 'dev-token';

const args = process.argv.slice(2);
const port = portFromArgs(args);
const url = `http://localhost:${port}`;
const token = process.env.LTX_EDGE_TOKEN || DEV_TOKEN;

const child = spawnWranglerDev(args);
let exited = false;
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof SIGNAL_NUMBERS;
/** The signal we were stopped with: our exit status says so (128 + n), whatever wrangler's own status is. */
let stoppedBy: StopSignal | undefined;

child.on('error', (e) => {
  console.error(`dev: cannot start wrangler: ${e.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  exited = true;
  const by = stoppedBy ?? (signal !== null && signal in SIGNAL_NUMBERS ? (signal as StopSignal) : undefined);
  process.exit(by ? 128 + SIGNAL_NUMBERS[by] : (code ?? 1));
});

// Forwarded, not acted on: wrangler shuts workerd down and exits, and the 'exit' handler above follows.
// (On a terminal Ctrl-C may reach wrangler directly too; it copes with hearing it twice.)
/** Stops the demo's later transactions when we are stopped. */
const history = new AbortController();

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    stoppedBy ??= signal;
    history.abort();
    if (!exited) child.kill(signal);
  });
}

if (process.env.LTX_EDGE_DEV_SEED !== '0') {
  void seed();
}

async function seed(): Promise<void> {
  try {
    await waitForHealth(url, { child });
  } catch (e) {
    if (!exited) console.error(`dev: ${(e as Error).message}; not seeding the ${DEMO_DB} database`);
    return;
  }
  let outcome: SeedOutcome | { kind: 'failed'; message: string };
  try {
    outcome = await seedDemo(url, token, historyEveryMs(), history.signal);
  } catch (e) {
    const err = e as Error & { code?: string };
    outcome = { kind: 'failed', message: `${err.code ? `${err.code} ` : ''}${err.message}` };
  }
  if (exited) return;
  if (outcome.kind === 'failed')
    console.error(`dev: seeding the ${DEMO_DB} database failed (the server keeps running): ${outcome.message}`);
  console.log(tryThis(url, token, outcome));
  if (outcome.kind === 'seeded') {
    outcome.history.done.catch((e: Error) => {
      if (!exited) console.error(`dev: writing the ${DEMO_DB} database's history stopped: ${e.message}`);
    });
  }
}

/** LTX_EDGE_DEV_HISTORY_MS, else 15 s. */
function historyEveryMs(): number {
  const ms = Number(process.env.LTX_EDGE_DEV_HISTORY_MS ?? 15_000);
  return Number.isFinite(ms) && ms >= 0 ? ms : 15_000;
}
