// Node side: packs the reference vectors as base64 so Workers tests (no file system) get them via vitest's provide/inject.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { VECTORS_DIR, type Manifest } from './vectors.ts';

export interface VectorBundle {
  manifest: Manifest;
  /** Relative path → file bytes as base64. */
  files: Record<string, string>;
}

export function loadVectorBundle(): VectorBundle {
  const manifest = JSON.parse(readFileSync(path.join(VECTORS_DIR, 'manifest.json'), 'utf8')) as Manifest;
  const files: Record<string, string> = {};
  for (const f of [...manifest.files, ...manifest.negative, ...manifest.extra_files]) {
    files[f.path] = readFileSync(path.join(VECTORS_DIR, f.path)).toString('base64');
  }
  return { manifest, files };
}

declare module 'vitest' {
  export interface ProvidedContext {
    ltxVectors: VectorBundle;
  }
}
