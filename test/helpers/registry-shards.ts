// Tests' view of the sharded registry (src/registry/): the configured shard count, a name's home shard, every shard.

import { env } from 'cloudflare:workers';
import { resolveConfig } from '../../src/config.ts';
import { registryShard } from '../../src/registry/registry-shards.ts';
import { shardObjectName, shardOf } from '../../src/registry/shard-of.ts';

/** LTX_EDGE_REGISTRY_SHARDS as the Worker under test resolves it. */
export const SHARDS = resolveConfig(env).registryShards;

/** The stub of the shard that holds `name`. */
export function homeOf(name: string) {
  return registryShard(env, shardOf(name, SHARDS));
}

/** The stubs of every shard, in shard order. */
export function allShards() {
  return Array.from({ length: SHARDS }, (_, i) => env.REGISTRY.getByName(shardObjectName(i)));
}

/** Due names of every shard at `now` (each shard's most overdue first). */
export async function dueEverywhere(now: number, limit = 10_000): Promise<string[]> {
  return (await Promise.all(allShards().map((s) => s.due(now, limit)))).flat();
}
