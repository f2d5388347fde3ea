import { expect, it } from 'vitest';

// CI runs this on purpose and expects the runner to exit non-zero: a runner (or a global setup)
// that swallows failures would make every CI run green.
it('fails on purpose', () => {
  expect('the runner reports failures').toBe('a green run');
});
