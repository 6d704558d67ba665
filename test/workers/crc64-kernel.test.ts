// In workerd the CRC-64 runs on the kernel the Worker bundles (src/index.ts): Workers compile no WebAssembly from bytes.

import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { compileCRC64Kernel, crc64, crc64Backend, useCRC64Kernel } from '../../src/ltx/crc64.ts';
import { prng } from '../helpers/prng.ts';

describe('the CRC-64 kernel in workerd', () => {
  it('refuses the embedded bytes, so the Worker entry installs its bundled module', () => {
    expect(() => compileCRC64Kernel()).toThrow();
    expect(crc64Backend()).toBe('wasm');
  });

  it('is what a DatabaseDO runs, and agrees with the JS reference (seed 6466)', async () => {
    const data = prng(6466).bytes(200_000);
    const sums = [0, 511, 512, 4096, 65536, 65537, 200_000].map((n) => crc64(data.subarray(1, 1 + n)));
    expect(await runInDurableObject(env.DATABASE.getByName('crc-kernel'), () => crc64Backend())).toBe('wasm');
    useCRC64Kernel(null);
    try {
      expect([0, 511, 512, 4096, 65536, 65537, 200_000].map((n) => crc64(data.subarray(1, 1 + n)))).toEqual(sums);
    } finally {
      // Back to the bundled module: the test isolate is the Worker's.
      const { default: kernel } = await import('../../src/ltx/crc64.wasm');
      useCRC64Kernel(kernel);
    }
  });
});
