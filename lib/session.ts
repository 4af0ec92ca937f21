// Sessions as libopeniscsiusr sees them.
import { native, type NativeBinding, type NativeSession } from './native';
import { throwIfAborted } from './errors';

export type Session = NativeSession;

export interface ReadOptions {
  signal?: AbortSignal;
  /** Test seam: the native binding. */
  binding?: Pick<NativeBinding, 'getSessions'>;
}

export async function sessions(options: ReadOptions = {}): Promise<Session[]> {
  throwIfAborted(options.signal);
  const binding = options.binding ?? native();
  return binding.getSessions();
}
