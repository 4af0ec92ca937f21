// Which leak checker wraps a driver: valgrind in the plain pass; in the AddressSanitizer pass
// (test/native/asan.sh preloads libasan) valgrind cannot run beside ASan in one process, so the driver runs
// bare and LeakSanitizer checks it at exit (a leak makes the process exit non-zero and writes a report, which
// asan.sh counts as a failure).
export const underAsan = /libasan/.test(process.env.LD_PRELOAD ?? '');

/** The shell words that run `node driver args` under the leak checker of this pass. */
export function leakChecked(command: string): string {
  return underAsan ? command : `valgrind --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --error-exitcode=9 ${command}`;
}

/** valgrind's own "no definite leak" line (the ASan pass has none: the exit status and the report files say it). */
export const VALGRIND_CLEAN = /definitely lost: 0 bytes in 0 blocks|All heap blocks were freed/;
