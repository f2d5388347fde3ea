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
