// Wraps a Durable Object namespace so every RPC made through it is counted (tests and benches of read costs).

/** `ns` with each stub method call reported to `onCall` before it runs. */
export function countingNamespace<N extends object>(ns: N, onCall: (method: string) => void): N {
  return new Proxy(ns, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (prop !== 'getByName') return typeof v === 'function' ? v.bind(target) : v;
      return (name: string) => {
        const stub = (target as unknown as { getByName(n: string): object }).getByName(name);
        return new Proxy(stub, {
          get(s, method) {
            return (...args: unknown[]) => {
              onCall(String(method));
              // RPC stub methods are proxies without Function.prototype.apply: call them directly.
              return (s as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[method](...args);
            };
          },
        });
      };
    },
  });
}
