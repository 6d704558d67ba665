// The registry as N shard Durable Objects: the home shard of a name, listing merged across shards in name order, removal from all.

import type { RegistryEntry } from '../durable/registry.ts';
import type { Env } from '../env.ts';
import { shardObjectName, shardOf } from './shard-of.ts';

/** Shard `i`'s stub. */
export function registryShard(env: Env, i: number) {
  return env.REGISTRY.getByName(shardObjectName(i));
}

/** The shard that holds `name` when there are `shards`. */
export function homeShard(env: Env, shards: number, name: string) {
  return registryShard(env, shardOf(name, shards));
}

/**
 * Up to `limit` entries after `after` (and starting with `prefix`), in name order, merged from every
 * shard; `more` when there may be further names. The first `limit` names overall are among each
 * shard's first `limit`, so one call per shard suffices. While entries move to a grown shard count,
 * a name can sit in two shards: the newer entry wins.
 */
export async function listRegistry(
  env: Env,
  shards: number,
  after: string,
  limit: number,
  prefix = '',
): Promise<{ entries: RegistryEntry[]; more: boolean }> {
  const pages = await Promise.all(Array.from({ length: shards }, (_, i) => registryShard(env, i).list(after, limit, prefix)));
  const byName = new Map<string, RegistryEntry>();
  for (const page of pages) {
    for (const e of page) {
      const seen = byName.get(e.name);
      if (!seen || e.updatedAt > seen.updatedAt) byName.set(e.name, e);
    }
  }
  const merged = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { entries: merged.slice(0, limit), more: merged.length > limit || pages.some((p) => p.length === limit) };
}

/** Every entry in name order (after `after`, starting with `prefix`), page by page. */
export async function* walkRegistry(env: Env, shards: number, after = '', prefix = '', pageSize = 1000): AsyncGenerator<RegistryEntry> {
  for (let cursor = after; ; ) {
    const { entries, more } = await listRegistry(env, shards, cursor, pageSize, prefix);
    yield* entries;
    if (!more || entries.length === 0) return;
    cursor = entries[entries.length - 1].name;
  }
}

/** Removes `name` from every shard: an entry not yet moved to its home shard must not outlive the database. */
export async function removeFromRegistry(env: Env, shards: number, name: string): Promise<void> {
  await Promise.all(Array.from({ length: shards }, (_, i) => registryShard(env, i).remove(name)));
}
