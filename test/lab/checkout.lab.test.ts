// The lab works from a checkout anywhere, including under /tmp, which the guest covers with its own tmpfs: a copy
// of the checkout under /tmp (its node_modules a symlink to another directory under /tmp) boots a guest with its
// own lab harness and calls into its own built package there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Lab } from './lab';
import { runtimeDependencies } from '../tools/runtime-deps';

const repo = path.resolve(__dirname, '../..');
let checkout = '';
let modules = '';
let lab: Lab | undefined;
let entry = '';

function copy(rel: string): void {
  fs.cpSync(path.join(repo, rel), path.join(checkout, rel), { recursive: true, dereference: false });
}

describe('a checkout under /tmp', () => {
  beforeAll(async () => {
    checkout = fs.mkdtempSync('/tmp/openiscsi-checkout-');
    modules = fs.mkdtempSync('/tmp/openiscsi-modules-');
    for (const rel of ['package.json', 'dist', 'build/Release/openiscsi.node', 'test/ensure-packages.sh', 'test/lab/guest']) copy(rel);
    for (const f of fs.readdirSync(path.join(repo, 'test/lab')).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'))) copy(`test/lab/${f}`);
    // the package's runtime dependencies, in a directory of their own under /tmp, reached through a symlink
    // (named node_modules, as a dependency resolved by its real path would need)
    for (const dep of runtimeDependencies(repo)) {
      fs.cpSync(fs.realpathSync(path.join(repo, 'node_modules', dep)), path.join(modules, 'node_modules', dep), { recursive: true });
    }
    fs.symlinkSync(path.join(modules, 'node_modules'), path.join(checkout, 'node_modules'));
    // the copy's own harness: its repoRoot is the copy
    const harness = (await import(path.join(checkout, 'test/lab/lab.ts'))) as typeof import('./lab');
    expect(harness.repoRoot).toBe(checkout);
    entry = harness.packageEntry;
    expect(entry).toBe(path.join(checkout, 'dist/index.js'));
    lab = await harness.startLab();
  });
  afterAll(async () => {
    await lab?.stop();
    for (const d of [checkout, modules]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('boots from it (guest-init.sh and the agent are the copy\'s) and calls into its package, addon included', async () => {
    const mounts = await lab!.shOk('cat /proc/mounts');
    // the guest's own tmpfs on /tmp, and both directories mounted over it at their host paths
    expect(mounts).toMatch(/^tmp \/tmp tmpfs /m);
    expect(mounts).toContain(`repo ${checkout} 9p `);
    expect(mounts).toContain(`share1 ${modules}/node_modules 9p `);
    expect(await lab!.shOk(`readlink -f ${checkout}/node_modules/node-addon-api`)).toBe(`${modules}/node_modules/node-addon-api\n`);
    // sessions() loads the addon (the checkout's own build) and reads the kernel's state
    expect(await lab!.call<unknown[]>(entry, 'sessions')).toEqual([]);
    // the addon mapped into the agent's process is the copy's ('[a]' keeps pgrep from matching this shell)
    const maps = await lab!.shOk(`for p in $(pgrep -f '[a]gent.js'); do grep -o '/[^ ]*openiscsi.node' /proc/$p/maps; done | sort -u`);
    expect(maps).toBe(`${checkout}/build/Release/openiscsi.node\n`);
  });
});
