// Called in the lab guest's agent (lab.call): the descriptors the agent process holds, as "fd -> target" lines,
// after the package's addon closed the sysfs files it keeps for re-reading (they are a cache, not a leak) and
// after a garbage collection (an ipcRequest's cancel eventfd lives as long as its JS handle). libuv's inotify
// descriptor, made by the first fs.watch of a loop and kept for the loop's life, is made here at once so that
// a baseline already has it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
fs.watch('/dev', { persistent: false }).close();
const turn = () => new Promise((r) => setImmediate(r));

exports.openFds = async (distDir) => {
  for (let i = 0; i < 3; i++) {
    gc();
    await turn();
  }
  try {
    require(path.join(distDir, 'native.js')).native().releaseSysfsFds();
  } catch {
    // the addon not loaded yet: it holds nothing
  }
  const dir = fs.opendirSync('/proc/self/fd');
  const self = String(dir.fd ?? '');
  const out = [];
  for (let e = dir.readSync(); e; e = dir.readSync()) {
    if (e.name === self) continue;
    let target = '?';
    try {
      target = fs.readlinkSync(`/proc/self/fd/${e.name}`);
    } catch {
      // the directory's own descriptor, gone by now
      continue;
    }
    out.push(`${e.name} -> ${target}`);
  }
  dir.closeSync();
  return out.filter((l) => !l.endsWith('-> /proc/' + process.pid + '/fd') && !/-> \/proc\/\d+\/fd$/.test(l)).sort();
};
