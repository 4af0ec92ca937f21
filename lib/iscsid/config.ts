// iscsid.conf and initiatorname.iscsi: read the way iscsiadm reads them. Parse errors name file and line.
import { promises as fs } from 'node:fs';
import { IscsiError } from '../errors';

export const ISCSID_CONF = '/etc/iscsi/iscsid.conf';
export const INITIATOR_NAME_FILE = '/etc/iscsi/initiatorname.iscsi';

/** The `key = value` settings of one file, remembering where each came from (for error messages). */
export class ConfFile extends Map<string, string> {
  readonly lines = new Map<string, number>();
  constructor(readonly file: string) {
    super();
  }
  /** "file:line" of a key, or just the file. */
  where(key: string): string {
    const line = this.lines.get(key);
    return line === undefined ? this.file : `${this.file}:${line}`;
  }
}

/**
 * `key = value` lines; `#` comments and blank lines skipped; a later line for the same key wins (as in
 * iscsiadm, which applies them in order). A line without `=` is an error naming the file and the line.
 */
export function parseConf(text: string, file: string): ConfFile {
  const out = new ConfFile(file);
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (key === '' || /\s/.test(key)) {
      throw new IscsiError('CONFIG_PARSE_ERROR', `${file}:${i + 1}: expected "key = value"`, { details: { file, line: i + 1 } });
    }
    out.set(key, line.slice(eq + 1).trim());
    out.lines.set(key, i + 1);
  });
  return out;
}

// Parsed files by identity (inode, size, mtime): every login reads iscsid.conf, and 32 logins at once
// should parse it once. A changed file has a new identity and is parsed again. Treat results as read-only.
const parsed = new Map<string, { id: string; conf: Promise<ConfFile> }>();

async function parseFile(file: string): Promise<ConfFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new ConfFile(file);
    throw new IscsiError('CONFIG_READ_ERROR', `cannot read ${file}: ${(e as Error).message}`, { cause: e, details: { file } });
  }
  return parseConf(text, file);
}

/** iscsid.conf; a missing file means "no overrides" (iscsiadm then uses its hard-coded defaults too). */
export async function readIscsidConf(file = ISCSID_CONF): Promise<ConfFile> {
  const st = await fs.stat(file).catch(() => undefined);
  if (!st) return parseFile(file);
  const id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const hit = parsed.get(file);
  if (hit?.id === id) return hit.conf;
  const conf = parseFile(file);
  parsed.set(file, { id, conf });
  conf.catch(() => parsed.delete(file));
  return conf;
}

export interface InitiatorNameFile {
  name?: string;
  alias?: string;
}

export async function readInitiatorNameFile(file = INITIATOR_NAME_FILE): Promise<InitiatorNameFile> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const conf = parseConf(text, file);
  const out: InitiatorNameFile = {};
  const name = conf.get('InitiatorName');
  if (name) out.name = name;
  const alias = conf.get('InitiatorAlias');
  if (alias) out.alias = alias;
  return out;
}
