// Reader for iscsiadm's record files (ifaces and nodes): `key = value` lines, `#` comments, blank lines.
// Tolerant like iscsiadm's own reader (unknown keys are kept), unlike libopeniscsiusr's.
export function parseRecordFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.length >= 2048) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (/\s/.test(key)) continue;
    out.set(key, line.slice(eq + 1).trim());
  }
  return out;
}

/** The file libopeniscsiusr named in its "config file X invalid" log line, if any. */
export function rejectedFileFrom(message: string): string | undefined {
  return /config file (\S+) invalid/.exec(message)?.[1];
}
