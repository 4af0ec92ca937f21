export * from './errors';
export { nativeStatus, type NativeStatus } from './native';
export { sessions, type Session } from './session';
export { ifaces, type Iface } from './iface';
