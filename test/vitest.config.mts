// .mts: an ES module, so vitest does not warn about ESM syntax in this CommonJS package.
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// unit: pure TypeScript on fixtures and fakes; native: the built addon (namespaces, mocks, leak check);
// host: real tgtd on loopback; lab: a real kernel initiator in a QEMU guest (one guest per file).
export default defineConfig({
  test: {
    root,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      { extends: true, test: { name: 'native', include: ['test/native/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
      { extends: true, test: { name: 'host', include: ['test/host/**/*.host.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
      {
        extends: true,
        test: {
          name: 'lab',
          include: ['test/lab/**/*.lab.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Two cores: one guest at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
