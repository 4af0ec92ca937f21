// A tiny module for the lab's own tests: what lab.call() passes in and gets back, and how errors travel.
'use strict';
exports.echo = async (...args) => ({ args, pid: process.pid });
exports.fail = async (code, errno) => {
  const e = new RangeError(`probe failure ${code}`);
  Object.assign(e, { code, errno, details: { big: 2n ** 64n } });
  throw e;
};
exports.nested = { add: (a, b) => a + b };
