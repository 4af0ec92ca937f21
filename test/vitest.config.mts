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
          // One guest at a time. A guest keeps about one of two cores busy, but two guests at once made every
          // lab file 2-4x slower (measured 2 Dec 2026: the lab project took 531 s against 313 s one by one).
          fileParallelism: false,
        },
      },
    ],
  },
});
