// Worker entry: fetch (the hono app), scheduled (cron: compaction and retention), and the DO class.
import { app } from './app.ts';
import { ConfigError, resolveConfig } from './config.ts';
import { runMaintenanceTick } from './cron.ts';
import { DatabaseDO } from './durable/database.ts';
import { RegistryDO } from './durable/registry.ts';
import type { Env } from './env.ts';
import { useCRC64Kernel } from './ltx/index.ts';
import crc64Kernel from './ltx/crc64.wasm';

export { DatabaseDO, RegistryDO };

// Workers compile no WebAssembly from bytes at run time: the CRC-64 kernel comes bundled, precompiled.
useCRC64Kernel(crc64Kernel);

/** Cron tick: validates config, then runs the due maintenance (cron.ts) and logs its summary. */
async function scheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  // workerd passes epoch ms; the Vitest plugin's loopback `exports.default.scheduled()` hands over the
  // caller's options as they are (a Date, or nothing), so accept any of those.
  const at = Number(controller.scheduledTime ?? Date.now());
  const tick = `cron ${JSON.stringify(controller.cron)} at ${new Date(Number.isFinite(at) ? at : Date.now()).toISOString()}`;
  let budgetMs: number;
  let shards: number;
  try {
    const config = resolveConfig(env);
    budgetMs = config.maintenanceBudgetMs;
    shards = config.registryShards;
    if (config.notConfigured !== null) {
      console.warn(`ltx-edge scheduled: ${tick}: skipped, not configured: ${config.notConfigured}`);
      return;
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`ltx-edge scheduled: ${tick}: skipped, ${err.code}: ${err.message}`);
    return;
  }
  const summary = await runMaintenanceTick(env, Number.isFinite(at) ? at : Date.now(), shards, { budgetMs });
  console.log(`ltx-edge scheduled: ${tick}: ${JSON.stringify(summary)}`);
}

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;
