// Runs every native entry point many times; valgrind watches for leaks in the addon's own frames.
const path = require('node:path');
const addon = require(path.resolve(__dirname, '../../../build/Release/openiscsi.node'));

async function main() {
  const rounds = Number(process.argv[2] || 200);
  for (let i = 0; i < rounds; i++) {
    await addon.getSessions();
    await addon.getSessions({ target: 'iqn.2026-11.org.example:tcp2' });
    await addon.getSessions({ libopeniscsiusr: true });
    await addon.getSession(5, { libopeniscsiusr: true });
    if (i % 10 === 9) addon.releaseSysfsFds();
    await addon.getIfaces();
    await addon.getIface('default');
    await addon.getNodes().catch(() => {});
    await addon.getHosts();
    await addon.getSession(123456).catch(() => {});
    await addon.getSession(5);
    await addon.getIface('no-such-iface').catch(() => {});
    try { addon.getIface('../x'); } catch {}
    await addon.dmRemoveMap('mpath-leak-check').catch(() => {}); // no such map (or no /dev/mapper/control): the error path
  }
  const ifaces = (await addon.getIfaces()).map((i) => i.name);
  const nodes = (await addon.getNodes()).map((n) => n.targetName);
  console.log('rounds', rounds);
  const { sessions } = await addon.getSessions();
  // Rows (lib/native.ts): [0] is the sid, [28] the devices.
  const luns = sessions.reduce((n, s) => n + s[28].length, 0);
  console.log('summary', JSON.stringify({ ifaces, nodes, sessions: sessions.map((s) => s[0]), luns }));
}
main().catch((e) => { console.error(e); process.exit(1); });
