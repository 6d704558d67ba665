// An ObjectStore with some methods replaced, for fault and timing tests inside the DO.

import type { ObjectStore } from '../../src/storage/object-store.ts';

/** `inner` with some methods replaced; the rest delegate (R2ObjectStore keeps private fields, so no Object.create). */
export function withOverrides(inner: ObjectStore, over: Partial<ObjectStore>): ObjectStore & { inner: ObjectStore } {
  return {
    inner,
    put: (k, b, o) => inner.put(k, b, o),
    get: (k, r) => inner.get(k, r),
    head: (k) => inner.head(k),
    delete: (k) => inner.delete(k),
    list: (o) => inner.list(o),
    createMultipart: (k, o) => inner.createMultipart(k, o),
    resumeMultipart: (k, id) => inner.resumeMultipart(k, id),
    ...over,
  };
}
