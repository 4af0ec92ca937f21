#!/usr/bin/env node
// `npm install`'s step for this package: use the prebuilt binary shipped in prebuilds/ when it loads here;
// otherwise build the addon from source, saying so; and fail the install, saying what is missing, when no
// binary that loads results. `npm install --build-from-source` (or npm_config_build_from_source) skips
// the prebuilt binary. Plain JavaScript: it runs before anything is compiled.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const platform = `${process.platform}-${process.arch}`;
const prebuilt = path.join(root, 'prebuilds', platform, 'openiscsi.node');
const built = path.join(root, 'build', 'Release', 'openiscsi.node');
const say = (s) => process.stderr.write(`openiscsi: ${s}\n`);

function fail(why) {
  say(`install failed: ${why}`);
  process.exit(1);
}

/** undefined when the binary loads in a fresh process, else why not (the loader's first line). */
function loadError(file) {
  const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', file], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  return (r.stderr.split('\n').find((l) => /Error/.test(l)) ?? r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`).trim();
}

if (process.platform !== 'linux') fail('openiscsi drives the Linux open-iscsi initiator and only runs on Linux');

const fromSource = /^(1|true)$/.test(process.env.npm_config_build_from_source ?? '');
let reason = `none is shipped for ${platform}`;
if (fromSource) {
  reason = 'building from source was asked for';
} else if (fs.existsSync(prebuilt)) {
  const e = loadError(prebuilt);
  if (e === undefined) {
    say(`using the prebuilt binary prebuilds/${platform}/openiscsi.node`);
    process.exit(0);
  }
  reason = `the prebuilt one does not load here (${e})`;
}

say(`no prebuilt binary: ${reason}. Building from source (about 30 s; g++, make, python3 and libopeniscsiusr-dev)`);
const missing = ['g++', 'make', 'python3'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (!fs.existsSync('/usr/include/libopeniscsiusr.h')) missing.push('libopeniscsiusr.h');
if (missing.length) {
  fail(`cannot build: ${missing.join(', ')} missing. On Debian/Ubuntu: apt-get install g++ make python3 libopeniscsiusr-dev, then npm rebuild openiscsi`);
}
// npm hands its own node-gyp to install scripts; otherwise the one on PATH.
const gyp = process.env.npm_config_node_gyp;
const args = ['rebuild', ...(fs.existsSync('/usr/include/node/node_api.h') ? ['--nodedir=/usr'] : [])];
const r = gyp && fs.existsSync(gyp) ? spawnSync(process.execPath, [gyp, ...args], { cwd: root, stdio: 'inherit' }) : spawnSync('node-gyp', args, { cwd: root, stdio: 'inherit' });
if (r.error) fail(`cannot run node-gyp (${r.error.message})`);
if (r.status !== 0) fail(`node-gyp rebuild exited with ${r.status ?? r.signal}; its output is above`);
const e = loadError(built);
if (e !== undefined) fail(`the binary built in build/Release does not load (${e})`);
say('built build/Release/openiscsi.node');
