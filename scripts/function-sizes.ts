/**
 * Lists the longest functions of a folder (default src/main/services), to keep every one of them short:
 *
 *   npx tsx scripts/function-sizes.ts [folder] [--top 20] [--max 80]
 *
 * With --max N it exits 1 when a function is longer than N lines (test/unit/foundation/function-sizes.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface FunctionSize {
  file: string;
  name: string;
  line: number;
  lines: number;
}

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) && node.name) return node.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(sf);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(sf);
  if (parent && ts.isPropertyDeclaration(parent)) return parent.name.getText(sf);
  return '(anonyme)';
}

/** Every function-like node of the folder with its length in lines (its body's first to last line). */
export function functionSizes(dir: string): FunctionSize[] {
  const out: FunctionSize[] = [];
  for (const file of files(dir)) {
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        out.push({ file: file.split(path.sep).join('/'), name: nameOf(node, sf), line: start + 1, lines: end - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out.sort((a, b) => b.lines - a.lines);
}

if (process.argv[1] && import.meta.url === `file://${path.resolve(process.argv[1])}`) {
  const args = process.argv.slice(2);
  const flag = (n: string): number | null => (args.includes(n) ? Number(args[args.indexOf(n) + 1]) : null);
  const dir = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--'))) ?? 'src/main/services';
  const sizes = functionSizes(dir);
  const top = flag('--top') ?? 20;
  for (const s of sizes.slice(0, top)) process.stdout.write(`${String(s.lines).padStart(5)}  ${s.file}:${s.line}  ${s.name}\n`);
  const max = flag('--max');
  if (max !== null && sizes.some((s) => s.lines > max)) process.exit(1);
}
