// Host end of the guest agent's protocol: JSON lines with ids over qemu's unix socket for the virtio-serial
// port. Request id 0 is reserved for the agent's unsolicited "ready" message.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as readline from 'node:readline';

export interface SerializedError {
  name?: string;
  message?: string;
  code?: string;
  errno?: number;
  details?: unknown;
  stack?: string;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: SerializedError;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class AgentClient {
  private socket: net.Socket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | undefined;

  /**
   * @param fail makes the error for a request that cannot complete (it adds the guest console's tail)
   * @param remoteError makes the error for a function that threw in the guest
   */
  constructor(
    private readonly fail: (message: string) => Error,
    private readonly remoteError: (e: SerializedError) => Error,
  ) {}

  /** Connects to qemu's socket once it exists; resolves with the agent's ready message. */
  async connect(socketPath: string, deadline: number, alive: () => boolean): Promise<unknown> {
    while (!fs.existsSync(socketPath)) {
      if (!alive()) throw this.fail('qemu exited before the guest booted');
      if (Date.now() > deadline) throw this.fail('qemu did not open the agent socket');
      await new Promise((r) => setTimeout(r, 10));
    }
    const socket = net.connect(socketPath);
    this.socket = socket;
    socket.on('error', () => {}); // 'close' follows and fails what is pending
    socket.once('close', () => this.closeAll(this.fail('the guest agent connection closed')));
    readline.createInterface({ input: socket }).on('line', (line) => this.onLine(line));
    return this.await(0, Math.max(0, deadline - Date.now()), 'the guest agent was not ready');
  }

  request(payload: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    if (this.closedError || !this.socket) return Promise.reject(this.closedError ?? this.fail('the lab guest is not running'));
    const id = this.nextId++;
    const reply = this.await(id, timeoutMs, `guest request ${String(payload.op)} timed out`);
    this.socket.write(`${JSON.stringify({ id, ...payload })}\n`);
    return reply;
  }

  closeAll(error: Error): void {
    this.closedError ??= error;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
    this.socket?.destroy();
  }

  private await(id: number, timeoutMs: number, what: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(this.fail(`${what} after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  private onLine(line: string): void {
    let msg: Reply;
    try {
      msg = JSON.parse(line) as Reply;
    } catch {
      return; // not ours (the port carries nothing else, but never die on a stray line)
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(this.remoteError(msg.error ?? {}));
  }
}
