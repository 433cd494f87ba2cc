import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: the CLI tests spawn a Node process per command, slow on a loaded 2-core machine; correctness, not speed, is tested.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
