/**
 * `Promise.withResolvers` arrived in Node 22; aws-local-stepfunctions calls it in every Task state.
 * Import this module before loading that library. It installs the method only when it is missing,
 * with the standard's semantics, so on Node 22+ it does nothing.
 */
interface PromiseWithResolversResult<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const PromiseConstructor = Promise as unknown as { withResolvers?: unknown };

if (typeof PromiseConstructor.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers<T>(): PromiseWithResolversResult<T> {
      let resolve: PromiseWithResolversResult<T>['resolve'] = () => {};
      let reject: PromiseWithResolversResult<T>['reject'] = () => {};
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
