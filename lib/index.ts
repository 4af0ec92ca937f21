export * from './errors';
export { nativeStatus, type NativeStatus } from './native';
export { sessions, session, type Session, type SessionIface, type ScsiDevice, type SessionReadOptions } from './session';
export { ifaces, setupDefaultIfaces, type Iface, type IfaceReadOptions } from './iface';
export { nodes, type NodeRecord, type NodeReadOptions } from './nodes';
export { transports, hosts, decodeCaps, CAPS, type KernelTransport, type IscsiHost, type HostIfaceEntry, type CapName } from './sysfs';
