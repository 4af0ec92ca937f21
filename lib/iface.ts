// Ifaces as libopeniscsiusr sees them: /etc/iscsi/ifaces plus the built-ins `default` and `iser`.
import { native, type NativeBinding, type NativeIface } from './native';
import { throwIfAborted } from './errors';

export type Iface = NativeIface;

export interface IfaceReadOptions {
  signal?: AbortSignal;
  binding?: Pick<NativeBinding, 'getIfaces'>;
}

export async function ifaces(options: IfaceReadOptions = {}): Promise<Iface[]> {
  throwIfAborted(options.signal);
  const binding = options.binding ?? native();
  return binding.getIfaces();
}
