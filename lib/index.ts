export * from './errors';
export { nativeStatus, type NativeStatus } from './native';
export { sessions, session, type Session, type SessionIface, type ScsiDevice, type SessionReadOptions } from './session';
export { ifaces, setupDefaultIfaces, type Iface, type IfaceReadOptions } from './iface';
export { nodes, type NodeRecord, type NodeReadOptions } from './nodes';
export { transports, hosts, decodeCaps, CAPS, type KernelTransport, type IscsiHost, type HostIfaceEntry, type CapName } from './sysfs';
export type { LoginOptions, ChapAuth, LogoutTarget, SessionCallOptions } from './login';
export { ISCSID_ERRORS, iscsidErrorInfo, isTransportRelated, isAuthRelated, type IscsidErrorInfo } from './iscsid-errors';
export { detectIscsidVersion, familyOf, ABI_FAMILIES, VERIFIED_FAMILIES, type AbiFamily, type IscsidVersion } from './version';
export { validateIscsiName, parsePortal, type Portal } from './validate';
export type { DiscoverOptions, DiscoverResult, SendTargetsOptions, SendTargetsResult, DiscoveredTarget, DiscoveredPortal, DiscoveryAuth } from './discovery';
export { TRANSPORTS, TRANSPORT_INFO, parseTransport, isTransport, transportForDriver, type Transport, type TransportInfo } from './transport';
export type { HardwareReport, HardwareProblem, HardwareProblemCode, HardwareSubject, HardwareOptions, IfaceBinding } from './hardware';
export type { CreateIfaceOptions, CreatedIface, DeleteIfaceOptions } from './iface-admin';
export { readIfaceFile, listIfaceFiles, parseIfaceFile, formatIfaceFile, type IfaceFile, type IfaceFields } from './iface-file';
export type { ResolvedIface, ResolvedHost, ResolveStep, ResolveOptions } from './resolve';
export type { ConnectOptions, ConnectResult, ConnectEvent, DisconnectOptions } from './connect';
// Loaded on their first call (on-demand.ts): a process that only reads does not load them.
export { login, logout, sessionState, sessionStats, initiatorName, discover, discoverSendTargets, checkHardware, createIface, deleteIface, resolveIface, routeTo, connect, disconnect } from './on-demand';
