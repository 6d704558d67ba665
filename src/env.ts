// The Worker's bindings and vars (wrangler.toml, .dev.vars, secrets) and the hono app's context type.
import type { Config, ConfigVars, TokenSpec } from './config.ts';
import type { DatabaseDO } from './durable/database.ts';
import type { RegistryDO } from './durable/registry.ts';

/** Everything the runtime hands the Worker and the Durable Object as `env`. */
export interface Env extends ConfigVars {
  /** R2 bucket holding the LTX files, keyed as in DESIGN §2. */
  LTX_BUCKET: R2Bucket;
  /** One SQLite-backed DatabaseDO per database name. */
  DATABASE: DurableObjectNamespace<DatabaseDO>;
  /** The one RegistryDO ("registry"): names and heads of all databases. */
  REGISTRY: DurableObjectNamespace<RegistryDO>;
}

/** hono generics for every sub-app: bindings plus what middleware puts on the context. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    /** Resolved configuration, set by the config gate for every route except /v1/health. */
    config: Config;
    /** The authenticated token, set by requireScope (auth.ts) on routes that need one. */
    token: TokenSpec;
  };
};
