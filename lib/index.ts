export * from './errors';
export { nativeStatus, type NativeStatus } from './native';
export { sessions, session, type Session, type SessionIface, type ScsiDevice, type SessionReadOptions } from './read/sessions';
export { ifaces, setupDefaultIfaces, type Iface, type IfaceReadOptions } from './read/ifaces';
export { nodes, type NodeRecord, type NodeReadOptions } from './read/nodes';
export { transports, hosts, decodeCaps, CAPS, type KernelTransport, type IscsiHost, type HostIfaceEntry, type CapName } from './read/sysfs';
export type { LoginOptions, ChapAuth, LogoutTarget, SessionCallOptions } from './iscsid/login';
export { ISCSID_ERRORS, iscsidErrorInfo, isTransportRelated, isAuthRelated, type IscsidErrorInfo } from './iscsid/error-numbers';
export { detectIscsidVersion, familyOf, ABI_FAMILIES, VERIFIED_FAMILIES, type AbiFamily, type IscsidVersion } from './iscsid/version';
export { validateIscsiName, parsePortal, type Portal } from './validate';
export type { DiscoverOptions, DiscoverResult, SendTargetsOptions, SendTargetsResult, DiscoveredTarget, DiscoveredPortal, DiscoveryAuth } from './discovery/discover';
export { TRANSPORTS, TRANSPORT_INFO, parseTransport, isTransport, transportForDriver, type Transport, type TransportInfo } from './attach/transport';
export type { HardwareReport, HardwareProblem, HardwareProblemCode, HardwareSubject, HardwareOptions, IfaceBinding } from './attach/hardware';
export type { CreateIfaceOptions, CreatedIface, DeleteIfaceOptions } from './attach/iface-admin';
export { readIfaceFile, listIfaceFiles, parseIfaceFile, formatIfaceFile, type IfaceFile, type IfaceFields } from './files/iface-file';
export type { ResolvedIface, ResolvedHost, ResolveStep, ResolveOptions } from './attach/resolve';
export type { ConnectOptions, ConnectResult, ConnectEvent, DisconnectOptions } from './attach/connect';
// Loaded on their first call (on-demand.ts): a process that only reads does not load them.
export { login, logout, sessionState, sessionStats, initiatorName, discover, discoverSendTargets, checkHardware, createIface, deleteIface, resolveIface, routeTo, connect, disconnect } from './on-demand';
