// `npm run bench`: every benchmark, one table each, results in bench/results/.
import { benchEnumerate, printEnumerate, writeResult } from './enumerate';

async function main(): Promise<void> {
  const counts = (process.env.BENCH_SESSIONS ?? '1,16').split(',').map(Number);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
  console.log(`enumeration: ${counts.join(', ')} session(s), ${rounds} interleaved rounds`);
  const enumerate = await benchEnumerate(counts, rounds);
  printEnumerate(enumerate);
  console.log(`\nwritten: ${writeResult('enumerate', { rounds, results: enumerate })}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
