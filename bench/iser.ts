// iSER against tcp on the same LIO target, in one lab guest: soft-RoCE (rdma_rxe, CRCs and copies in software)
// under QEMU's emulated CPU. Sequential 1 MiB writes and reads and 4 KiB random reads with fio (O_DIRECT,
// libaio) through the disk connect() attached, rounds interleaved. EMULATED: the ratio says what the two
// software paths cost on this emulated CPU, not what an RDMA NIC would do against a real network.
import { LIO_PORTALS, packageEntry, startLab, type Lab } from '../test/lab/lab';

export interface FioFigures {
  seqWriteMBps: number;
  seqReadMBps: number;
  randRead4kIops: number;
}
export interface IserBench {
  rounds: number;
  mib: number;
  randSeconds: number;
  iser: FioFigures[];
  tcp: FioFigures[];
  median: { iser: FioFigures; tcp: FioFigures };
  /** iser / tcp, from the medians. */
  ratio: FioFigures;
  emulated: true;
}

const IQN = 'iqn.2026-11.org.openiscsi:bench.iser';

async function fio(lab: Lab, dev: string, args: string): Promise<{ read: { bw: number; iops: number }; write: { bw: number; iops: number } }> {
  const out = await lab.shOk(`fio --name=b --filename=${dev} --direct=1 --ioengine=libaio --output-format=json ${args}`, { timeoutMs: 300_000 });
  const job = (JSON.parse(out.slice(out.indexOf('{'))) as { jobs: Array<{ read: { bw: number; iops: number }; write: { bw: number; iops: number } }> }).jobs[0];
  if (!job) throw new Error(`fio printed no job: ${out}`);
  return job;
}

async function measure(lab: Lab, transport: 'iser' | 'tcp', mib: number, randSeconds: number): Promise<FioFigures> {
  const r = await lab.call<{ session: { sid: number }; device: { path: string }; transport: { used: string } }>(
    packageEntry,
    'connect',
    [{ target: IQN, portal: LIO_PORTALS.rdma, transport, fallback: false }],
    { timeoutMs: 180_000 },
  );
  if (r.transport.used !== transport) throw new Error(`connect used ${r.transport.used}, not ${transport}`);
  try {
    const w = await fio(lab, r.device.path, `--rw=write --bs=1M --size=${mib}M --iodepth=4`);
    const s = await fio(lab, r.device.path, `--rw=read --bs=1M --size=${mib}M --iodepth=4`);
    const q = await fio(lab, r.device.path, `--rw=randread --bs=4k --size=${mib}M --iodepth=16 --time_based --runtime=${randSeconds}`);
    // fio's bw is KiB/s
    return { seqWriteMBps: (w.write.bw * 1024) / 1e6, seqReadMBps: (s.read.bw * 1024) / 1e6, randRead4kIops: q.read.iops };
  } finally {
    await lab.call(packageEntry, 'disconnect', [{ sid: r.session.sid }]);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const medianOf = (runs: FioFigures[]): FioFigures => ({
  seqWriteMBps: median(runs.map((r) => r.seqWriteMBps)),
  seqReadMBps: median(runs.map((r) => r.seqReadMBps)),
  randRead4kIops: median(runs.map((r) => r.randRead4kIops)),
});

export async function benchIser(rounds: number, mib: number, randSeconds: number): Promise<IserBench> {
  const lab = await startLab({
    rdma: true,
    bootTimeoutMs: 240_000,
    targets: [{ iqn: IQN, luns: 1, lunSizeMiB: mib, kind: 'lio', iser: true }],
    onProgress: (m) => console.log(`  lab: ${m}`),
  });
  try {
    const iser: FioFigures[] = [];
    const tcp: FioFigures[] = [];
    for (let i = 0; i < rounds; i++) {
      // interleaved, and the order alternates, so that drift in the machine's load hits both alike
      for (const t of i % 2 ? (['tcp', 'iser'] as const) : (['iser', 'tcp'] as const)) {
        const f = await measure(lab, t, mib, randSeconds);
        (t === 'iser' ? iser : tcp).push(f);
        console.log(`  round ${i + 1} ${t.padEnd(4)}: write ${f.seqWriteMBps.toFixed(1)} MB/s, read ${f.seqReadMBps.toFixed(1)} MB/s, 4 KiB random read ${f.randRead4kIops.toFixed(0)} IOPS`);
      }
    }
    const m = { iser: medianOf(iser), tcp: medianOf(tcp) };
    const ratio = {
      seqWriteMBps: m.iser.seqWriteMBps / m.tcp.seqWriteMBps,
      seqReadMBps: m.iser.seqReadMBps / m.tcp.seqReadMBps,
      randRead4kIops: m.iser.randRead4kIops / m.tcp.randRead4kIops,
    };
    console.log(`  iser/tcp (medians, EMULATED CPU and soft-RoCE): write ${ratio.seqWriteMBps.toFixed(2)}x, read ${ratio.seqReadMBps.toFixed(2)}x, 4 KiB random read ${ratio.randRead4kIops.toFixed(2)}x`);
    return { rounds, mib, randSeconds, iser, tcp, median: m, ratio, emulated: true };
  } finally {
    await lab.stop();
  }
}
