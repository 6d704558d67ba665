// Vitest: "unit" runs test/unit in Node (pure), "e2e" test/e2e against the local platform and child processes, "workers" test/workers inside workerd via @cloudflare/vitest-plugin.
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { loadFileWorkloads, loadQueryWorkloads } from './test/helpers/query-workload.ts';
import { loadVectorBundle } from './test/helpers/vector-bundle.ts';

export default defineConfig({
  test: {
    // Generous for CI on 2 cores: the workers project boots workerd and bundles the Worker first.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The request log (src/log.ts) writes one JSON line per request: keep them out of the output (spies still see them).
    onConsoleLog: (log) => (log.startsWith('{"ts":') ? false : undefined),
    projects: [
      {
        extends: true,
        test: { name: 'unit', environment: 'node', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        // Against the real local platform (wrangler dev), the CLI or agent as child processes, or the npm package.
        test: { name: 'e2e', environment: 'node', include: ['test/e2e/**/*.test.ts'] },
      },
      {
        extends: true,
        plugins: [
          cloudflareTest({
            // Bindings, vars, DO migrations and compatibility date come from wrangler.toml (+ .dev.vars).
            wrangler: { configPath: './wrangler.toml' },
            // Never reach Cloudflare's API: tests must run offline.
            remoteBindings: false,
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/workers/**/*.test.ts'],
          // One file at a time: the plugin keeps one workerd whose DO storage, registry and R2 are
          // shared by every file, and some files abort all DOs or run the cron over the registry.
          fileParallelism: false,
          // The reference LTX vectors, for tests that cannot read ../shared from inside workerd; and
          // real SQLite workloads as LTX files with node:sqlite's answers per TXID (workerd has no node:sqlite).
          provide: { ltxVectors: loadVectorBundle(), queryWorkloads: loadQueryWorkloads(), fileWorkloads: loadFileWorkloads() },
        },
      },
    ],
  },
});
