// Which registry shard holds a database: jump consistent hash of the name's FNV-1a 64, so growing the shard count moves only the names the new shards take.

/** Most registry shards (LTX_EDGE_REGISTRY_SHARDS). */
export const MAX_REGISTRY_SHARDS = 1024;

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const encoder = new TextEncoder();

/** FNV-1a, 64 bits, over the name's UTF-8 bytes. */
export function fnv1a64(text: string): bigint {
  let h = FNV_OFFSET;
  for (const b of encoder.encode(text)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * FNV_PRIME);
  return h;
}

/**
 * Lamping and Veach's jump consistent hash: a bucket in [0, buckets) for `key`. Going from n to m > n
 * buckets moves a key only into one of the new buckets, and only (m − n)/m of the keys.
 */
export function jumpHash(key: bigint, buckets: number): number {
  let k = key;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = BigInt.asUintN(64, k * 2862933555777941757n + 1n);
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return b;
}

/** The shard (0 ≤ shard < shards) that holds `name`. */
export function shardOf(name: string, shards: number): number {
  return shards <= 1 ? 0 : jumpHash(fnv1a64(name), shards);
}

/** The Durable Object name of shard `i`: shard 0 keeps the single registry's name, so a deployment can grow from it. */
export function shardObjectName(i: number): string {
  return i === 0 ? 'registry' : `registry-${i}`;
}
