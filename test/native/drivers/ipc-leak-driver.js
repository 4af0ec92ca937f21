// Runs the iscsid socket client and the record builder many times against mock-iscsid.py in by-sid mode;
// valgrind watches for leaks in the addon's own frames (threads, thread-safe functions, cleanup hooks).
const path = require('node:path');
const addon = require(path.resolve(__dirname, '../../../build/Release/openiscsi.node'));
const { defaultRecord } = require(path.resolve(__dirname, '../../../dist/iscsid/record.js'));

const FAMILIES = ['2.0.874', '2.0.875', '2.0.876', '2.1.1', '2.1.11', '2.1.12', '2.1.13'];
const settle = (p) => p.then((v) => `ok ${v.command}`, (e) => e.code);

async function main() {
  const rounds = Number(process.argv[2] || 100);
  const rec = defaultRecord();
  Object.assign(rec, { name: 'iqn.2003-01.org.example:tgt1' });
  rec.conn.address = '192.0.2.10';
  const seen = new Set();
  for (let i = 0; i < rounds; i++) {
    // sendtargets (0): the discovery type every family numbers alike
    for (const f of FAMILIES) addon.buildRequest(f, 1, 0, { ...rec, discType: 0 });
    try { addon.buildRequest('2.1.1', 1, 0, { ...rec, conn: { ...rec.conn, address: 'x'.repeat(2000) } }); } catch {}
    const req = (sid, ms, pid = 0) => addon.ipcRequest(addon.buildRequest('2.1.1', 13, sid, undefined), ms, undefined, pid);
    const cancelled = req(2, 60_000);
    const results = await Promise.all([0, 1, 3, 4].map((sid) => settle(req(sid, 5000).promise)).concat([
      settle(req(2, 30).promise), // the mock never answers sid 2: deadline
      settle(cancelled.promise),
      settle(addon.ipcRequest(addon.buildRequest('2.1.1', 8, 0, undefined), 1000, 'NO-SUCH-SOCKET', 0).promise),
      // the peer check: identify, and a request that expects another pid (refused before sending)
      addon.identifyIscsid(1000, undefined).promise.then((p) => (p.uid === 0 && p.pid > 0 ? 'peer' : 'bad peer'), (e) => e.code),
      settle(req(0, 1000, 999999).promise),
    ]).concat([new Promise((r) => setTimeout(r, 5)).then(() => cancelled.cancel())]));
    results.forEach((r) => r && seen.add(r));
  }
  await new Promise((r) => setTimeout(r, 300)); // let the request threads finish
  console.log('rounds', rounds);
  console.log('outcomes', JSON.stringify([...seen].sort()));
}
main().catch((e) => { console.error(e); process.exit(1); });
