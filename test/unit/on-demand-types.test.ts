// The public operations in lib/on-demand.ts are written out by hand (so an editor shows their parameters and
// docs); this keeps each one's signature equal to the function it loads. The checks are types: they fail the
// compile step of the unit tests (tsc -p test/tsconfig.json), which runs before vitest. The runtime part checks
// that no operation went missing from the package's exports.
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as pkg from '../../lib/index';
import * as onDemand from '../../lib/on-demand';
import type * as Connect from '../../lib/attach/connect';
import type * as Disconnect from '../../lib/attach/disconnect';
import type * as Multipath from '../../lib/attach/multipath';
import type * as Discovery from '../../lib/discovery/discover';
import type * as Hardware from '../../lib/attach/hardware';
import type * as IfaceAdmin from '../../lib/attach/iface-admin';
import type * as Login from '../../lib/iscsid/login';
import type * as SessionCalls from '../../lib/iscsid/session-calls';
import type * as Resolve from '../../lib/attach/resolve';

const OPERATIONS = ['login', 'logout', 'sessionState', 'sessionStats', 'initiatorName', 'discover', 'discoverSendTargets', 'checkHardware', 'createIface', 'deleteIface', 'resolveIface', 'routeTo', 'connect', 'disconnect', 'disconnectMultipath'] as const;

describe('the operations loaded on demand', () => {
  it('have the signatures of the functions they load', () => {
    expectTypeOf(onDemand.login).toEqualTypeOf<typeof Login.login>();
    expectTypeOf(onDemand.logout).toEqualTypeOf<typeof SessionCalls.logout>();
    expectTypeOf(onDemand.sessionState).toEqualTypeOf<typeof SessionCalls.sessionState>();
    expectTypeOf(onDemand.sessionStats).toEqualTypeOf<typeof SessionCalls.sessionStats>();
    expectTypeOf(onDemand.initiatorName).toEqualTypeOf<typeof SessionCalls.initiatorName>();
    expectTypeOf(onDemand.discover).toEqualTypeOf<typeof Discovery.discover>();
    expectTypeOf(onDemand.discoverSendTargets).toEqualTypeOf<typeof Discovery.discoverSendTargets>();
    expectTypeOf(onDemand.checkHardware).toEqualTypeOf<typeof Hardware.checkHardware>();
    expectTypeOf(onDemand.createIface).toEqualTypeOf<typeof IfaceAdmin.createIface>();
    expectTypeOf(onDemand.deleteIface).toEqualTypeOf<typeof IfaceAdmin.deleteIface>();
    expectTypeOf(onDemand.resolveIface).toEqualTypeOf<typeof Resolve.resolveIface>();
    expectTypeOf(onDemand.routeTo).toEqualTypeOf<typeof Resolve.routeTo>();
    expectTypeOf(onDemand.connect).toEqualTypeOf<typeof Connect.connect>();
    expectTypeOf(onDemand.disconnect).toEqualTypeOf<typeof Disconnect.disconnect>();
    // The implementation also takes its collaborators (connect, disconnect); the operation supplies them.
    expectTypeOf(onDemand.disconnectMultipath).parameters.toEqualTypeOf<[Parameters<typeof Multipath.disconnectMultipath>[0]]>();
    expectTypeOf(onDemand.disconnectMultipath).returns.toEqualTypeOf<ReturnType<typeof Multipath.disconnectMultipath>>();
  });

  it('are all exported by the package, and nothing else is on-demand', () => {
    for (const name of OPERATIONS) expect(typeof pkg[name], name).toBe('function');
    expect(Object.keys(onDemand).sort()).toEqual([...OPERATIONS].sort());
  });
});
