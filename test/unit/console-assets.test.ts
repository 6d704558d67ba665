// The committed console bundle (src/routes/console-assets.json) is what src/console/ builds to, and the build is deterministic.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONSOLE_ASSETS_PATH, buildConsoleAssets } from '../../scripts/console-bundle.ts';

const committed = readFileSync(path.resolve(import.meta.dirname, '../..', CONSOLE_ASSETS_PATH), 'utf8');

describe('the console assets', () => {
  it('are the ones src/console builds to (run `npm run console` after changing src/console/)', async () => {
    const built = await buildConsoleAssets();
    expect(committed === built, `${CONSOLE_ASSETS_PATH} is stale: run npm run console`).toBe(true);
  });

  it('are the same on every build', async () => {
    expect(await buildConsoleAssets()).toBe(await buildConsoleAssets());
  });

  it('hold exactly the page, its script and its style', () => {
    expect(Object.keys(JSON.parse(committed))).toEqual(['index.html', 'console.js', 'console.css']);
  });
});
