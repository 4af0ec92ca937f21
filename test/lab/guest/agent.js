// The guest side of the lab: serves JSON-lines requests from the host over a virtio-serial port.
//   {id, op: 'sh', cmd, timeoutMs}        -> {id, ok: true, result: {code, signal, stdout, stderr}}
//   {id, op: 'call', module, fn, args}    -> {id, ok: true, result} | {id, ok: false, error: {name, code, errno, message, ...}}
//   {id, op: 'ping'}                      -> {id, ok: true, result: {pid, uptime}}
// When the guest's services are up (LAB_READY_FILE exists) it sends {id: 0, ok: true, result: {ready, ...}}.
// Test code only: it may run shell commands; the library under test never does.
'use strict';
const nodeStartS = process.uptime(); // how long node itself took to start
const fs = require('node:fs');
const os = require('node:os');
const { spawn } = require('node:child_process');
const readline = require('node:readline');

// A virtio-serial port can be opened only once: one fd serves both directions.
const fd = fs.openSync(process.argv[2], 'r+');
const out = fs.createWriteStream(null, { fd, autoClose: false });
const send = (msg) => out.write(`${JSON.stringify(msg)}\n`);

function sh(cmd, timeoutMs = 60_000) {
  return new Promise((resolve) => {
    const child = spawn('/bin/bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // the whole process group: a timed-out command must not leave its children running
    const timer = setTimeout(() => {
      stderr += `\n[lab agent] killed after ${timeoutMs} ms`;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, stdout, stderr: `${stderr}${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (os.constants.signals[signal] ?? 0), signal, stdout, stderr });
    });
  });
}

function serialiseError(e) {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const { name, message, code, errno, details } = e;
  return { name, message, code, errno, details: details === undefined ? undefined : toJson(details), stack: e.stack };
}

// JSON-safe copy (BigInt as a string) so one odd value cannot turn a result into a protocol error.
const toJson = (v) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'null');

async function call(req) {
  const mod = require(req.module);
  const fn = req.fn.split('.').reduce((o, k) => (o == null ? undefined : o[k]), mod);
  if (typeof fn !== 'function') throw new Error(`${req.module} has no function ${req.fn}`);
  return toJson(await fn(...(req.args || [])));
}

async function handle(req) {
  if (req.op === 'sh') return sh(req.cmd, req.timeoutMs);
  if (req.op === 'call') return call(req);
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

function announceWhenReady() {
  const file = process.env.LAB_READY_FILE;
  if (file && !fs.existsSync(file)) return void setTimeout(announceWhenReady, 10);
  const guestUptimeS = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  send({ id: 0, ok: true, result: { ready: true, kernel: os.release(), guestUptimeS, nodeStartS } });
}
announceWhenReady();
