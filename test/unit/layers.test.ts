// The house rule of lib/: calls go downward only (attach → discovery → iscsid → read → files → the shared
// top-level modules). Every relative import in lib/ is checked against its folder's rank, type-only imports
// included: a module that needs something from a layer above it is in the wrong room.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const lib = path.resolve(__dirname, '../../lib');
const RANK: Record<string, number> = { '.': 0, files: 1, read: 2, iscsid: 3, discovery: 4, attach: 5 };
const TOP_ENTRY = new Set(['index.ts', 'cli.ts', 'on-demand.ts']);

function rankOf(file: string): number {
  const rel = path.relative(lib, file);
  const dir = path.dirname(rel);
  if (dir === '.' && TOP_ENTRY.has(rel)) return 6;
  const r = RANK[dir.split(path.sep)[0]!];
  if (r === undefined) throw new Error(`${rel} is in a folder with no layer rank; add it to RANK and lib/README.md`);
  return r;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('lib/ layers', () => {
  it('no module imports from a layer above its own', () => {
    const upward: string[] = [];
    for (const f of tsFiles(lib)) {
      const src = fs.readFileSync(f, 'utf8');
      for (const m of src.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = path.resolve(path.dirname(f), m[1]!);
        const file = fs.existsSync(`${target}.ts`) ? `${target}.ts` : path.join(target, 'index.ts');
        if (rankOf(file) > rankOf(f)) upward.push(`${path.relative(lib, f)} → ${path.relative(lib, file)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("discovery/'s modules import only those before them in lib/discovery/README.md's order", () => {
    const order = ['frame', 'pdu-control', 'pdu', 'keys', 'chap', 'sendtargets', 'guard', 'connection', 'session', 'login', 'client', 'discover'];
    const dir = path.join(lib, 'discovery');
    expect(tsFiles(dir).map((f) => path.basename(f, '.ts')).sort()).toEqual([...order].sort());
    const wrong: string[] = [];
    for (const [i, name] of order.entries()) {
      const src = fs.readFileSync(path.join(dir, `${name}.ts`), 'utf8');
      for (const m of src.matchAll(/(?:from|import)\s*\(?\s*'\.\/([^']+)'/g)) if (order.indexOf(m[1]!) >= i) wrong.push(`${name} → ${m[1]}`);
    }
    expect(wrong).toEqual([]);
  });

  it('every folder of lib/ has a README saying what it owns and may call', () => {
    for (const d of Object.keys(RANK)) expect(fs.existsSync(path.join(lib, d, 'README.md')), `lib/${d}/README.md`).toBe(true);
  });
});
