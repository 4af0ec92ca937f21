// Test code only: calls one function of the package in a process of its own (a "fresh process" for the
// lab tests: nothing carried over from earlier calls), with its ConnectEvents collected, and prints
// {result} or {error}, plus {events}, as one JSON line.
//   node fresh-call.js <package entry> <function> '<JSON array of arguments>'
'use strict';
const [entry, fn, argsJson] = process.argv.slice(2);
const events = [];
const args = JSON.parse(argsJson || '[]');
if (args[0] && typeof args[0] === 'object') args[0].onEvent = (e) => events.push(e);
const out = (o) => process.stdout.write(`${JSON.stringify({ ...o, events, pid: process.pid })}\n`);
require(entry)[fn](...args).then(
  (result) => out({ result }),
  (e) => out({ error: { name: e.name, code: e.code, message: e.message, details: e.details } }),
);
