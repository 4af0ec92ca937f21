// The package's runtime dependencies and theirs (bindings needs file-uri-to-path), read from their package.json
// files in the checkout's node_modules: every test that copies or installs the package somewhere else takes
// this list, so the next dependency is not missed by a hand-written one.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function runtimeDependencies(repo: string): string[] {
  const seen = new Set<string>();
  const visit = (pkgJson: string) => {
    const deps = (JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
    for (const d of Object.keys(deps)) {
      if (seen.has(d)) continue;
      seen.add(d);
      visit(path.join(repo, 'node_modules', d, 'package.json'));
    }
  };
  visit(path.join(repo, 'package.json'));
  return [...seen].sort();
}
