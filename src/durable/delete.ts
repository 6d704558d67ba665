// Deletes every R2 object of a database (DESIGN §4 DELETE /v1/databases/:db).

import { dbPrefix } from '../storage/keys.ts';
import { type IngestContext, retryOf } from './ingest.ts';

/** Lists and deletes `<prefix>/<name>/…` in pages of 1000; returns how many objects went. */
export async function deleteDatabase(ctx: IngestContext): Promise<number> {
  const prefix = dbPrefix(ctx.prefix, ctx.name);
  const retry = retryOf(ctx);
  let deleted = 0;
  for (;;) {
    const page = await retry(() => ctx.store.list({ prefix }));
    if (page.objects.length === 0) return deleted;
    const keys = page.objects.map((o) => o.key);
    await retry(() => ctx.store.delete(keys));
    deleted += keys.length;
  }
}
