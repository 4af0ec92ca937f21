// The bounds of one discovery: one Guard (a deadline and an AbortSignal, DNS and redirects included) that
// tells every subscriber (the open socket) when it fires, and the limits of one session.
import { IscsiAbortError, IscsiError, IscsiTimeoutError } from '../errors';

export type Phase = 'resolve' | 'connect' | 'login' | 'text' | 'logout';

/** Limits of one session. */
export const LIMITS = {
  /** Login request/response exchanges, continuations included. */
  loginExchanges: 24,
  /** Bytes of login text the target may send in one exchange (with C-bit continuations). */
  loginTextBytes: 64 * 1024,
  /** Text responses to one SendTargets (each up to MAX_RECV_DATA_SEGMENT_LENGTH bytes). */
  textResponses: 4096,
  /** Bytes of SendTargets answer in total. */
  textBytes: 16 * 1024 * 1024,
  /** PDUs the target may send that we did not ask for (queued before we read them). */
  queuedPdus: 64,
  /** How long to wait for the Logout Response (within the deadline); the targets are known by then. */
  logoutGraceMs: 1000,
} as const;

/**
 * One deadline and one AbortSignal for a whole discovery, DNS and redirects included. When either fires,
 * every subscriber (the open socket) is told at once; `race` turns that into a rejection.
 */
export class Guard {
  readonly deadline: number;
  phase: Phase = 'connect';
  private fired: IscsiError | undefined;
  private readonly listeners = new Set<(e: IscsiError) => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () => {
    this.fire(new IscsiAbortError(`discovery at ${this.what} was aborted (during ${this.phase})`, { cause: this.signal?.reason, details: { phase: this.phase } }));
  };

  constructor(
    readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    /** The portal, for messages. */
    public what: string,
  ) {
    this.deadline = Date.now() + timeoutMs;
    this.timer = setTimeout(() => {
      this.fire(
        new IscsiTimeoutError('DISCOVERY_TIMEOUT', `discovery at ${this.what} did not finish within ${timeoutMs} ms (stuck in ${this.phase})`, {
          details: { timeoutMs, phase: this.phase },
          hint: 'check that the portal is an iSCSI target and reachable, or raise timeoutMs',
        }),
      );
    }, timeoutMs);
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) this.onAbort();
  }

  get failure(): IscsiError | undefined {
    return this.fired;
  }

  remaining(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  private fire(e: IscsiError): void {
    if (this.fired) return;
    this.fired = e;
    this.dispose();
    for (const l of [...this.listeners]) l(e);
    this.listeners.clear();
  }

  /** Calls `cb` when the guard fires (at once if it has); returns the unsubscribe function. */
  onFire(cb: (e: IscsiError) => void): () => void {
    if (this.fired) {
      cb(this.fired);
      return () => {};
    }
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  race<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const off = this.onFire(reject);
      work.then(
        (v) => {
          off();
          resolve(v);
        },
        (e: unknown) => {
          off();
          reject(e);
        },
      );
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}
