// One CHAP algorithm table for iscsid's record, node files and the SendTargets client (they used to disagree
// on SHA3-256).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CHAP_ALGORITHM_NAMES, CHAP_ALGORITHM_TABLE } from '../../lib/chap-algorithms';
import { CHAP_ALGORITHMS as RECORD_ALGORITHMS, defaultRecord } from '../../lib/iscsid/record';
import { CHAP_ALGORITHMS as DISCOVERY_ALGORITHMS, chapResponse } from '../../lib/discovery/chap';
import { serializeNodeRecord } from '../../lib/iscsid/node-file';

describe('CHAP algorithms', () => {
  it('the record, the node file and discovery use the same names and numbers', () => {
    expect(RECORD_ALGORITHMS).toEqual(DISCOVERY_ALGORITHMS);
    expect(Object.keys(RECORD_ALGORITHMS)).toEqual(CHAP_ALGORITHM_NAMES);
    const r = defaultRecord();
    r.name = 'iqn.2026-12.org.example:t';
    r.session.auth.chapAlgs = CHAP_ALGORITHM_NAMES.map((n) => CHAP_ALGORITHM_TABLE[n].id);
    expect(serializeNodeRecord(r)).toContain(`node.session.auth.chap_algs = ${CHAP_ALGORITHM_NAMES.join(',')}\n`);
  });

  it('discovery answers a challenge with each algorithm, SHA3-256 included', () => {
    const challenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    for (const name of CHAP_ALGORITHM_NAMES) {
      const a = CHAP_ALGORITHM_TABLE[name];
      const want = createHash(a.hash).update(Buffer.from([7])).update('s3cret-secret').update(challenge).digest();
      const got = chapResponse(a.id, 7, 's3cret-secret', challenge);
      expect(got).toEqual(want);
      expect(got.length).toBe(a.digestBytes);
    }
  });
});
