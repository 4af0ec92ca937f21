// IscsiErrorCode (lib/errors.ts) is the list of every `code` a caller can see on an IscsiError. This keeps it
// equal to what is thrown, in both directions:
// - lib/: the compiler already refuses a literal code that is not in the union (IscsiError's constructor takes
//   IscsiErrorCode). Here the type checker finds every string literal that flows into an IscsiErrorCode
//   position (a constructor's first argument, a helper's `code` parameter or option, a ternary of codes);
// - iscsid's answers: ISCSID_ERR_<NAME> for every entry of ISCSID_ERRORS (the code is built from the name);
// - native/: every "CODE" the addon puts in a NativeError (passed on with that code by fromNative());
// and then no member of the union may be one that nothing throws, unless listed below with the reason.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { ISCSID_ERRORS } from '../../lib/iscsid/error-numbers';

const repo = path.resolve(__dirname, '../..');
const lib = path.join(repo, 'lib');

/** Codes in native/ that never reach a caller as an IscsiError code, and why. */
const NATIVE_NOT_CALLER_CODES: Record<string, string> = {
  ERR_INVALID_ARG: "a TypeError for an argument of the wrong type; fromNative() passes TypeErrors through, and lib/ validates every input before calling the addon",
  DB_LOCK_HELD: "the ifaces/nodes listing's answer that lock.write exists; lib/files/db-lock.ts waits and asks again, and answers ISCSI_DB_LOCKED at the deadline",
  ISCSIADM_ABSTRACT_NAMESPACE: "iscsid's socket name, not an error",
};
/** Union members that nothing throws today, and why they are kept. Empty: every member is thrown. */
const UNTHROWN_ON_PURPOSE: Record<string, string> = {};

function tsFiles(dir: string, ext: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name), ext) : ext.test(e.name) ? [path.join(dir, e.name)] : []));
}

let union: string[];
let undocumented: string[];
let fromLib: Map<string, string[]>;

beforeAll(() => {
  const files = tsFiles(lib, /\.ts$/);
  const program = ts.createProgram(files, { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, types: ['node'], skipLibCheck: true, exactOptionalPropertyTypes: true });
  const checker = program.getTypeChecker();
  const errorsFile = program.getSourceFile(path.join(lib, 'errors.ts'))!;
  const aliases = new Map<string, ts.TypeAliasDeclaration>();
  errorsFile.forEachChild((n) => {
    if (ts.isTypeAliasDeclaration(n)) aliases.set(n.name.text, n);
  });
  const codeAlias = aliases.get('IscsiErrorCode');
  if (!codeAlias) throw new Error('lib/errors.ts has no type IscsiErrorCode');
  const codeType = checker.getTypeAtLocation(codeAlias.name);
  union = (codeType.isUnion() ? codeType.types : [codeType]).filter((t) => t.isStringLiteral()).map((t) => (t as ts.StringLiteralType).value);

  // Every literal member of the union (and of the unions it names) has a /** doc */ right before it.
  undocumented = [];
  const visit = (alias: ts.TypeAliasDeclaration) => {
    if (!ts.isUnionTypeNode(alias.type)) return;
    let prevEnd = alias.type.pos;
    for (const m of alias.type.types) {
      if (ts.isLiteralTypeNode(m) && ts.isStringLiteral(m.literal)) {
        const before = errorsFile.text.slice(prevEnd, m.getStart(errorsFile));
        if (!/\/\*\*[^]*?\*\/\s*\|?\s*$/.test(before)) undocumented.push(m.literal.text);
      } else if (ts.isTypeReferenceNode(m) && ts.isIdentifier(m.typeName) && aliases.has(m.typeName.text)) {
        visit(aliases.get(m.typeName.text)!);
      }
      prevEnd = m.end;
    }
  };
  visit(codeAlias);

  // Literals whose contextual type is IscsiErrorCode (or a union made only of its members): codes being thrown.
  // Comparisons (`e.code === 'X'`, `case 'X':`) read a code, they do not throw one. A default (`a ?? 'X'`)
  // counts when the whole expression is an argument that takes a code (`fail(rule.code ?? 'VALUE_TOO_LONG')`),
  // not as a default for a code read from an error into a result's string field (`e.code ?? 'ERROR'`).
  const members = new Set(union);
  const isCodeType = (t: ts.Type | undefined): boolean => {
    if (!t) return false;
    const parts = (t.isUnion() ? t.types : [t]).filter((x) => !(x.flags & ts.TypeFlags.Undefined));
    return parts.length > 0 && parts.every((x) => x.isStringLiteral() && members.has(x.value)) && parts.length >= 2;
  };
  fromLib = new Map();
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(lib + path.sep)) continue;
    const walk = (n: ts.Node): void => {
      if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && /^[A-Z][A-Z0-9_]+$/.test(n.text)) {
        const p = n.parent;
        const comparing = [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken];
        const comparison = (ts.isBinaryExpression(p) && comparing.includes(p.operatorToken.kind)) || ts.isCaseClause(p);
        const defaulting = ts.isBinaryExpression(p) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(p.operatorToken.kind);
        const asArgument = defaulting && (ts.isCallExpression(p.parent) || ts.isNewExpression(p.parent)) && p.parent.arguments?.includes(p);
        const target = defaulting ? (asArgument ? checker.getContextualType(p) : undefined) : checker.getContextualType(n);
        if (!comparison && !ts.isLiteralTypeNode(p) && isCodeType(target)) {
          const where = `${path.relative(repo, sf.fileName)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
          fromLib.set(n.text, [...(fromLib.get(n.text) ?? []), where]);
        }
      }
      n.forEachChild(walk);
    };
    walk(sf);
  }
}, 60_000);

/** "CODE" literals in native/ sources, comments removed. */
function nativeCodes(): Set<string> {
  const out = new Set<string>();
  for (const f of tsFiles(path.join(repo, 'native'), /\.(cc|h|inc)$/)) {
    const text = fs.readFileSync(f, 'utf8').replace(/\/\*[^]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
    for (const m of text.matchAll(/"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|ABORTED)"/g)) out.add(m[1]!);
  }
  return out;
}

const iscsidCodes = () => [...ISCSID_ERRORS.filter((e) => e.errno !== 0).map((e) => `ISCSID_ERR_${e.name}`), 'ISCSID_ERR_UNKNOWN'];

describe('IscsiErrorCode', () => {
  it('is a union of string literals, each with a doc comment (what an editor shows)', () => {
    expect(union.length).toBeGreaterThan(100);
    expect(new Set(union).size).toBe(union.length);
    expect(undocumented).toEqual([]);
  });

  it('finds the codes lib/ throws through the type checker (a sanity check of the scan itself)', () => {
    // One of each construction path: a class, a subclass constructor, the validation helper, a ternary, the
    // checkText option, a code passed on from the addon by name.
    for (const c of ['MULTIPATHD_REFUSED', 'MULTIPATH_MAP_BUSY', 'DISCOVERY_REDIRECT', 'INVALID_PORTAL', 'TARGET_AMBIGUOUS', 'NO_TARGETS', 'DISCOVERY_MUTUAL_AUTH_FAILED', 'INVALID_CHAP_USER', 'VALUE_TOO_LONG', 'ABORTED', 'ISCSID_NOT_RUNNING']) {
      expect(fromLib.has(c), c).toBe(true);
    }
    expect(fromLib.size).toBeGreaterThan(80);
  });

  it('has every code lib/ throws (the compiler enforces it too)', () => {
    expect([...fromLib].filter(([c]) => !union.includes(c))).toEqual([]);
  });

  it("has iscsid's every error as ISCSID_ERR_<NAME>, and no ISCSID_ERR_ code iscsid does not have", () => {
    const expected = iscsidCodes();
    expect(expected.filter((c) => !union.includes(c))).toEqual([]);
    expect(union.filter((c) => c.startsWith('ISCSID_ERR_') && !expected.includes(c))).toEqual([]);
  });

  it("has every code the native addon puts in its errors (native/), but the ones that never reach a caller", () => {
    const native = nativeCodes();
    // The scan sees the addon's codes at all.
    for (const c of ['MULTIPATHD_UNTRUSTED', 'USR_SYSFS_LOOKUP', 'LOCK_IO', 'ISCSID_PEER_PID_HIDDEN', 'DB_LOCK_HELD']) expect(native.has(c), c).toBe(true);
    expect([...native].filter((c) => !union.includes(c) && !(c in NATIVE_NOT_CALLER_CODES))).toEqual([]);
    expect(Object.keys(NATIVE_NOT_CALLER_CODES).filter((c) => union.includes(c) || !native.has(c))).toEqual([]);
  });

  it('has no code that nothing throws', () => {
    const thrown = new Set([...fromLib.keys(), ...iscsidCodes(), ...nativeCodes()]);
    expect(union.filter((c) => !thrown.has(c) && !(c in UNTHROWN_ON_PURPOSE))).toEqual([]);
  });
});
