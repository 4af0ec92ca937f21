// One of several processes entering the same critical section N times, under withLock (lib/files/locks.ts)
// or, for comparison, the pid-file scheme it replaced. Each section checks that the shared marker file is
// empty, writes its own mark, yields for a moment, checks the mark is still its own, and empties it: any
// other process inside at the same time shows as an overlap.
// usage: node lock-sections.js <lockDir> <markerFile> <goFile> <sections> withLock|pidfile
const fs = require('node:fs');
const path = require('node:path');
const { withLock } = require(path.resolve(__dirname, '../../../dist/files/locks.js'));

const [lockDir, marker, goFile, sectionsArg, scheme] = process.argv.slice(2);
const sections = Number(sectionsArg);
const me = `${process.pid}`;
const pause = () => new Promise((r) => setTimeout(r, Math.random() < 0.5 ? 0 : 1));

// The scheme lib/login.ts used before: create with O_EXCL, then write the pid; judge a holder by reading it.
async function pidFileLock(fn) {
  const file = path.join(lockDir, 'login.lock');
  for (;;) {
    try {
      const h = await fs.promises.open(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
      await h.writeFile(me);
      await h.close();
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const pid = Number(await fs.promises.readFile(file, 'utf8').catch(() => ''));
      let alive = false;
      if (pid > 0) {
        try { process.kill(pid, 0); alive = true; } catch (err) { alive = err.code === 'EPERM'; }
      }
      if (!alive) { await fs.promises.unlink(file).catch(() => {}); continue; }
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  try { return await fn(); } finally { await fs.promises.unlink(file).catch(() => {}); }
}

async function section() {
  let overlap = 0;
  if (fs.readFileSync(marker, 'utf8') !== '') overlap = 1;
  fs.writeFileSync(marker, me);
  await pause();
  if (fs.readFileSync(marker, 'utf8') !== me) overlap = 1;
  fs.writeFileSync(marker, '');
  return overlap;
}

async function main() {
  while (!fs.existsSync(goFile)) await new Promise((r) => setTimeout(r, 2));
  let overlaps = 0;
  const t0 = Date.now();
  for (let i = 0; i < sections; i++) {
    overlaps += scheme === 'pidfile'
      ? await pidFileLock(section)
      : await withLock('sections.lock', { dir: lockDir, deadline: Date.now() + 30_000 }, section);
  }
  console.log(JSON.stringify({ overlaps, ms: Date.now() - t0 }));
}
main().catch((e) => { console.log(JSON.stringify({ error: e.code ?? String(e), message: e.message })); process.exit(1); });
