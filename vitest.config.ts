import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests run what was just built: stale outputs are refused (test/helpers/fresh-build.ts).
    globalSetup: ['test/helpers/fresh-build.ts'],
    testTimeout: 120_000,
    reporters: ['default'],
  },
});
