/**
 * A client that is constructed on first use. Building an SDK client (its resolved config, middleware
 * stack, protocol and error registry) took a fifth of a Lambda's module evaluation when every client
 * a function might need was built at import; the worker, for one, builds IAM, Backup and Secrets
 * Manager clients that only some control tests use. Through this wrapper a client that an
 * invocation never calls is never built, and the rest are built once, by the first call.
 * For the Lambda composition roots only: tests stub clients on real instances.
 */
export function lazyClient<TClient extends object>(build: () => TClient): TClient {
  let client: TClient | undefined;
  const instance = (): TClient => {
    client ??= build();
    return client;
  };
  return new Proxy({} as TClient, {
    get(_shell, property) {
      const target = instance();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set: (_shell, property, value) => Reflect.set(instance(), property, value),
    has: (_shell, property) => Reflect.has(instance(), property),
    getPrototypeOf: () => Reflect.getPrototypeOf(instance()),
  });
}
