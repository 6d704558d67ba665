// Types for tests running in workerd: cloudflare:test helpers, and env/exports typed from our Worker.
/// <reference types="@cloudflare/vitest-plugin/types" />
import type { Env as WorkerEnv } from '../../src/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import('../../src/index.ts');
      durableNamespaces: 'DatabaseDO' | 'RegistryDO';
    }
  }
}
