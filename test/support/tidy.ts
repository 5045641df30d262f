// The tidy checker behind test/tidy.test.ts and scripts/import-graph.ts: reads the layer order and
// the core list from specs/architecture.md (fenced blocks `layers` and `core`), and checks source
// text for what the house rules forbid (DESIGN.md rules 1, 3, 9): world-dependent calls and node:*
// imports in the core, imports against the layer order, files over 300 lines, functions over 70.
// Pure over strings, so the test can plant samples; only sourceFiles() reads the disk.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, posix, relative } from 'node:path';
import ts from 'typescript';

export const MAX_FILE_LINES = 300;
export const MAX_FUNCTION_LINES = 70;

export interface Violation {
  /** path relative to the repository, e.g. src/actors/node/create-node.ts */
  file: string;
  rule: 'purity' | 'layer' | 'file-size' | 'function-size';
  /** what is wrong, stable text (the allow-list keys on file + rule + detail) */
  detail: string;
  line: number;
}

/** The body of the first fenced block whose info string is `info`, one entry a line. */
export function fencedLines(markdown: string, info: string): string[] {
  const m = new RegExp('^```' + info + '[ \\t]*\\n([\\s\\S]*?)^```', 'm').exec(markdown);
  if (!m) throw new Error(`specs/architecture.md has no \`\`\`${info} block`);
  return m[1].split('\n').map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== '');
}

/** Layers, top first as written: each entry the parts of one layer. */
export function parseLayers(markdown: string): string[][] {
  return fencedLines(markdown, 'layers').map((l) => l.split(/\s+/));
}

/** The part a source path (relative to src/, posix) belongs to: the longest part name that is it or a folder of it. */
export function partOf(srcPath: string, parts: readonly string[]): string | null {
  const noExt = srcPath.replace(/\.ts$/, '');
  let best: string | null = null;
  for (const p of parts) {
    if ((noExt === p || srcPath.startsWith(p + '/')) && (best === null || p.length > best.length)) best = p;
  }
  return best;
}

/** Layer index of each part; a higher index is a lower layer. */
export function layerIndex(layers: string[][]): Map<string, number> {
  const idx = new Map<string, number>();
  layers.forEach((parts, i) => parts.forEach((p) => idx.set(p, i)));
  return idx;
}

export interface ImportRef {
  spec: string;
  typeOnly: boolean;
  line: number;
}

function parse(file: string, source: string): ts.SourceFile {
  return ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

function lineOf(sf: ts.SourceFile, node: ts.Node): number {
  return sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
}

function importTypeOnly(st: ts.ImportDeclaration): boolean {
  const c = st.importClause;
  if (!c) return false;
  if (c.isTypeOnly) return true;
  const b = c.namedBindings;
  return !c.name && b !== undefined && ts.isNamedImports(b) && b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly);
}

/** Every module a file names: import and export-from declarations, import(), require(). */
export function importsOf(file: string, source: string): ImportRef[] {
  const sf = parse(file, source);
  const out: ImportRef[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push({ spec: n.moduleSpecifier.text, typeOnly: importTypeOnly(n), line: lineOf(sf, n) });
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push({ spec: n.moduleSpecifier.text, typeOnly: n.isTypeOnly, line: lineOf(sf, n) });
    } else if (ts.isCallExpression(n) && n.arguments.length === 1 && ts.isStringLiteral(n.arguments[0])) {
      const dynamic = n.expression.kind === ts.SyntaxKind.ImportKeyword;
      const req = ts.isIdentifier(n.expression) && n.expression.text === 'require';
      if (dynamic || req) out.push({ spec: n.arguments[0].text, typeOnly: false, line: lineOf(sf, n) });
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      out.push({ spec: n.argument.literal.text, typeOnly: true, line: lineOf(sf, n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, '')));

/** `node:fs`, `fs`, `fs/promises`, … */
export function isBuiltin(spec: string): boolean {
  return spec.startsWith('node:') || BUILTINS.has(spec) || BUILTINS.has(spec.split('/')[0]);
}

const TIMERS = new Set(['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'clearTimeout', 'clearInterval', 'clearImmediate']);
const HOST_OBJECTS = new Set(['globalThis', 'global', 'window', 'self']);

/** The world-dependent calls of rule 3, found in the syntax tree (comments and strings do not count). */
export function purityViolations(file: string, source: string): Violation[] {
  const sf = parse(file, source);
  const out: Violation[] = [];
  const add = (n: ts.Node, detail: string): void => {
    out.push({ file, rule: 'purity', detail, line: lineOf(sf, n) });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression)) {
      const obj = n.expression.text;
      const name = n.name.text;
      if (obj === 'Date' && name === 'now') add(n, 'Date.now');
      else if (obj === 'Math' && name === 'random') add(n, 'Math.random');
      else if (obj === 'performance' && name === 'now') add(n, 'performance.now');
      else if (HOST_OBJECTS.has(obj) && TIMERS.has(name)) add(n, `${obj}.${name}`);
    } else if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && TIMERS.has(n.expression.text)) {
      add(n, n.expression.text);
    } else if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'Date' && !n.arguments?.length) {
      add(n, 'new Date()');
    } else if (ts.isIdentifier(n) && n.text === 'process' && !isPropertyName(n)) {
      add(n, 'process');
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  for (const i of importsOf(file, source)) {
    if (isBuiltin(i.spec)) out.push({ file, rule: 'purity', detail: `import '${i.spec}'`, line: i.line });
  }
  return out;
}

/** `x.process`, `{ process: … }`, `process(…) {}` as a method name: a name, not the global. */
function isPropertyName(n: ts.Identifier): boolean {
  const p = n.parent;
  return (
    (ts.isPropertyAccessExpression(p) && p.name === n) ||
    ((ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertySignature(p) || ts.isMethodSignature(p)) && p.name === n)
  );
}

type FunctionLike = ts.FunctionDeclaration | ts.MethodDeclaration | ts.ArrowFunction | ts.FunctionExpression | ts.ConstructorDeclaration | ts.AccessorDeclaration;

function functionName(sf: ts.SourceFile, n: FunctionLike): string {
  if (ts.isConstructorDeclaration(n)) return 'constructor';
  if (n.name) return n.name.getText(sf);
  const p = n.parent;
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) return p.name.getText(sf);
  return `(anonymous ${ts.SyntaxKind[n.kind]})`;
}

/** Files over MAX_FILE_LINES lines; functions (of every kind, with a body) over MAX_FUNCTION_LINES lines, first line to last. */
export function sizeViolations(file: string, source: string): Violation[] {
  const out: Violation[] = [];
  const lines = source.endsWith('\n') ? source.split('\n').length - 1 : source.split('\n').length;
  if (lines > MAX_FILE_LINES) out.push({ file, rule: 'file-size', detail: `${lines} lines`, line: 1 });
  const sf = parse(file, source);
  const visit = (n: ts.Node): void => {
    if (
      (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n) ||
        ts.isConstructorDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n)) &&
      n.body
    ) {
      const start = lineOf(sf, n);
      const end = sf.getLineAndCharacterOfPosition(n.getEnd()).line + 1;
      const len = end - start + 1;
      if (len > MAX_FUNCTION_LINES) out.push({ file, rule: 'function-size', detail: `${functionName(sf, n)}: ${len} lines`, line: start });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Relative imports from `file` (src-relative) into a part above its own layer, or into or from a part the order does not name. */
export function layerViolations(file: string, source: string, layers: string[][]): Violation[] {
  const parts = layers.flat();
  const idx = layerIndex(layers);
  const own = partOf(file, parts);
  const at = `src/${file}`;
  if (own === null) return [{ file: at, rule: 'layer', detail: 'in no layer of specs/architecture.md', line: 1 }];
  const out: Violation[] = [];
  for (const i of importsOf(file, source)) {
    if (!i.spec.startsWith('.')) continue;
    const target = posix.normalize(posix.join(posix.dirname(file), i.spec));
    if (target.startsWith('..')) continue; // outside src/ (never in practice)
    const to = partOf(target, parts);
    if (to === null) {
      out.push({ file: at, rule: 'layer', detail: `imports ${target}, in no layer`, line: i.line });
    } else if (idx.get(to)! < idx.get(own)!) {
      out.push({ file: at, rule: 'layer', detail: `${own} -> ${to} (${target}${i.typeOnly ? ', type only' : ''})`, line: i.line });
    }
  }
  return out;
}

/** Whether a src-relative path is in the core list (entries: a part, a file, or `!` + either to exclude; `*` within a name). */
export function inCore(srcPath: string, core: readonly string[]): boolean {
  const match = (entry: string): boolean => {
    const re = new RegExp('^' + entry.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '(/|$)');
    return re.test(srcPath);
  };
  let inside = false;
  for (const e of core) {
    if (e.startsWith('!')) {
      if (match(e.slice(1))) return false;
    } else if (match(e)) inside = true;
  }
  return inside;
}

/** Every .ts file under `dir`, as paths relative to `root` with forward slashes. */
export function sourceFiles(root: string, dir = 'src'): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts')) out.push(relative(root, p).split('\\').join('/'));
    }
  };
  walk(join(root, dir));
  return out;
}

/** All violations of the tree at `root`, against its specs/architecture.md. */
export function checkTree(root: string): Violation[] {
  const spec = readFileSync(join(root, 'specs/architecture.md'), 'utf8');
  const layers = parseLayers(spec);
  const core = fencedLines(spec, 'core');
  const out: Violation[] = [];
  for (const path of sourceFiles(root)) {
    const source = readFileSync(join(root, path), 'utf8');
    const srcPath = path.slice('src/'.length);
    if (inCore(srcPath, core)) out.push(...purityViolations(path, source));
    out.push(...sizeViolations(path, source));
    out.push(...layerViolations(srcPath, source, layers));
  }
  return out;
}

/** The allow-list key of a violation: without line numbers or counts, so an entry survives edits. */
export function violationKey(v: Violation): string {
  if (v.rule === 'file-size') return `${v.file} file-size`;
  if (v.rule === 'function-size') return `${v.file} function-size ${v.detail.replace(/: \d+ lines$/, '')}`;
  return `${v.file} ${v.rule} ${v.detail}`;
}
