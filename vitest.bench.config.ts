// Vitest config for benchmarks that must run inside workerd (bench/workers/**/*.bench-test.ts), e.g.
// `npm run bench -- ingest`. Same Worker settings as the "workers" project of vitest.config.ts; kept
// separate so `npm test` (which only includes test/**) never runs the benchmarks.
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/** Parameters from the Node side (bench/ingest.ts), as JSON in LTX_BENCH_PARAMS; {} = defaults. */
const params = JSON.parse(process.env.LTX_BENCH_PARAMS ?? '{}') as Record<string, unknown>;

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      remoteBindings: false,
    }),
  ],
  test: {
    name: 'bench-workers',
    include: ['bench/workers/**/*.bench-test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    provide: { benchParams: params },
  },
});
