// The operations that change things (login, discovery, iface administration, connect) and the hardware
// check and iface resolution, each loaded on its first call with what it needs (iscsid's socket client,
// the SendTargets client, node:dns, ...). A process that only reads, such as a monitoring loop or
// `openiscsi sessions`, never loads them: every module costs its load, and under the lab's emulation a
// small one costs 30-60 ms (README, "Loading"). All of these return promises, so loading on demand adds
// one turn and changes no signature or error.
import type * as Connect from './connect';
import type * as Discovery from './discovery';
import type * as Hardware from './hardware';
import type * as IfaceAdmin from './iface-admin';
import type * as Login from './login';
import type * as Resolve from './resolve';

export async function login(...a: Parameters<typeof Login.login>): ReturnType<typeof Login.login> {
  return (await import('./login')).login(...a);
}
export async function logout(...a: Parameters<typeof Login.logout>): ReturnType<typeof Login.logout> {
  return (await import('./login')).logout(...a);
}
export async function sessionState(...a: Parameters<typeof Login.sessionState>): ReturnType<typeof Login.sessionState> {
  return (await import('./login')).sessionState(...a);
}
export async function sessionStats(...a: Parameters<typeof Login.sessionStats>): ReturnType<typeof Login.sessionStats> {
  return (await import('./login')).sessionStats(...a);
}
export async function initiatorName(...a: Parameters<typeof Login.initiatorName>): ReturnType<typeof Login.initiatorName> {
  return (await import('./login')).initiatorName(...a);
}
export async function discover(...a: Parameters<typeof Discovery.discover>): ReturnType<typeof Discovery.discover> {
  return (await import('./discovery')).discover(...a);
}
export async function discoverSendTargets(...a: Parameters<typeof Discovery.discoverSendTargets>): ReturnType<typeof Discovery.discoverSendTargets> {
  return (await import('./discovery')).discoverSendTargets(...a);
}
export async function checkHardware(...a: Parameters<typeof Hardware.checkHardware>): ReturnType<typeof Hardware.checkHardware> {
  return (await import('./hardware')).checkHardware(...a);
}
export async function createIface(...a: Parameters<typeof IfaceAdmin.createIface>): ReturnType<typeof IfaceAdmin.createIface> {
  return (await import('./iface-admin')).createIface(...a);
}
export async function deleteIface(...a: Parameters<typeof IfaceAdmin.deleteIface>): ReturnType<typeof IfaceAdmin.deleteIface> {
  return (await import('./iface-admin')).deleteIface(...a);
}
export async function resolveIface(...a: Parameters<typeof Resolve.resolveIface>): ReturnType<typeof Resolve.resolveIface> {
  return (await import('./resolve')).resolveIface(...a);
}
export async function routeTo(...a: Parameters<typeof Resolve.routeTo>): ReturnType<typeof Resolve.routeTo> {
  return (await import('./resolve')).routeTo(...a);
}
export async function connect(...a: Parameters<typeof Connect.connect>): ReturnType<typeof Connect.connect> {
  return (await import('./connect')).connect(...a);
}
export async function disconnect(...a: Parameters<typeof Connect.disconnect>): ReturnType<typeof Connect.disconnect> {
  return (await import('./connect')).disconnect(...a);
}
