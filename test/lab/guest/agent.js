// The guest side of the lab: serves JSON-lines requests from the host over a virtio-serial port.
//   {id, op: 'sh', cmd, timeoutMs}            -> {id, ok: true, result: {code, stdout, stderr}}
//   {id, op: 'call', module, fn, args}        -> {id, ok: true, result} | {id, ok: false, error}
// Test code only: it may run shell commands; the library under test never does.
'use strict';
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const readline = require('node:readline');

// A virtio-serial port can be opened only once: one fd serves both directions.
const fd = fs.openSync(process.argv[2], 'r+');
const out = fs.createWriteStream(null, { fd, autoClose: false });
const send = (msg) => out.write(`${JSON.stringify(msg)}\n`);

function sh(cmd, timeoutMs = 60_000) {
  return new Promise((resolve) => {
    const child = spawn('/bin/bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), signal, stdout, stderr });
    });
  });
}

function serialiseError(e) {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const { name, message, code, errno, details } = e;
  return { name, message, code, errno, details, stack: e.stack };
}

async function handle(req) {
  if (req.op === 'sh') return sh(req.cmd, req.timeoutMs);
  if (req.op === 'call') {
    const mod = require(req.module);
    const fn = req.fn.split('.').reduce((o, k) => (o == null ? undefined : o[k]), mod);
    if (typeof fn !== 'function') throw new Error(`${req.module} has no function ${req.fn}`);
    const result = await fn(...(req.args || []));
    return result === undefined ? null : JSON.parse(JSON.stringify(result));
  }
  if (req.op === 'ping') return { pid: process.pid, uptime: process.uptime() };
  throw new Error(`unknown op ${req.op}`);
}

readline.createInterface({ input: fs.createReadStream(null, { fd, autoClose: false }) }).on('line', (line) => {
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    return;
  }
  handle(req).then(
    (result) => send({ id: req.id, ok: true, result }),
    (e) => send({ id: req.id, ok: false, error: serialiseError(e) }),
  );
});
send({ id: 0, ok: true, result: { ready: true, kernel: require('node:os').release() } });
