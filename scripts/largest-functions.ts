/**
 * Lists the longest functions of a source folder (default src/main/services), longest first:
 * `tsx scripts/largest-functions.ts [folder] [count]`. A function's length is its lines from its first to its
 * last line, nested functions included (the same measure as ESLint's max-lines-per-function with comments).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = process.argv[2] ?? 'src/main/services';
const count = Number(process.argv[3] ?? 15);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? files(p) : /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  const n = (node as { name?: ts.Node }).name;
  if (n) return n.getText(sf);
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p)) return p.name.getText(sf);
  if (p && ts.isPropertyAssignment(p)) return p.name.getText(sf);
  return '(anonymous)';
}

const out: { where: string; name: string; lines: number }[] = [];
for (const file of files(root)) {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ where: `${relative('.', file)}:${start + 1}`, name: nameOf(node, sf), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
out.sort((a, b) => b.lines - a.lines);
for (const f of out.slice(0, count)) console.log(`${String(f.lines).padStart(5)}  ${f.name}  ${f.where}`);
