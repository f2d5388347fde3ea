/** A port whose every member is an async method: it can stand in for itself before it is made. */
export type AsyncPort<T> = {
  readonly [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? T[K] : never;
};

const MADE = Symbol('the port a lazy port stands in for');

/** The adapter behind a port (made now if it is a lazy one that was not yet): what tests check. */
export async function adapterOf<T extends object>(port: T): Promise<T> {
  const made = (port as { [MADE]?: () => Promise<T> })[MADE];
  return made ? made() : port;
}

/**
 * The port `load` makes, made (and its modules imported) on the first call of any of its methods:
 * a function that never calls it never imports its adapter or SDK client. `load` runs once; a
 * failed load is tried again on the next call, as a failed import would be.
 */
export function lazyPort<T extends AsyncPort<T>>(load: () => Promise<T>): T {
  let made: Promise<T> | undefined;
  const port = () => {
    made ??= load().catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
  const methods = new Map<PropertyKey, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy({} as T, {
    get(_, key) {
      // Not a thenable (an `await` of the port must not call it), and no symbol is a method.
      if (key === MADE) return port;
      if (key === 'then' || typeof key === 'symbol') return undefined;
      let method = methods.get(key);
      if (!method) {
        method = async (...args: unknown[]) => {
          const target = (await port()) as Record<PropertyKey, (...a: unknown[]) => Promise<unknown>>;
          const member = target[key];
          if (typeof member !== 'function') throw new TypeError(`${String(key)} is not a method of the port`);
          return member.apply(target, args);
        };
        methods.set(key, method);
      }
      return method;
    },
  });
}

/**
 * An object whose every property is made on first read (and kept): a function's dependencies
 * named all at once, but only those it uses are built, so a step that never touches the clusters
 * needs no cluster configuration (its declared needs give it none).
 */
export function lazily<T extends object>(makers: { readonly [K in keyof T]: () => T[K] }): T {
  const made = new Map<PropertyKey, unknown>();
  const target = {} as T;
  for (const key of Object.keys(makers) as (keyof T & string)[]) {
    Object.defineProperty(target, key, {
      enumerable: true,
      get: () => {
        if (!made.has(key)) made.set(key, makers[key]());
        return made.get(key);
      },
    });
  }
  return target;
}

/** The value `make` makes, made on the first call and kept (boxed, so a null is made once too). */
export function once<T>(make: () => T): () => T {
  let made: { readonly value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}
