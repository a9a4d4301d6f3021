/**
 * The published type declarations: a user can name every type the public API takes or gives (each is
 * exported from one of the package's entry points), and no `any` leaks into them. Reads `dist/src`,
 * which `npm test` builds first; test/types/ pins the types themselves.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const dist = join(root, "dist", "src");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports: Record<string, string | { types: string }> };
const entries = Object.entries(manifest.exports).flatMap(([name, target]) => (typeof target === "object" ? [{ name, file: join(root, target.types) }] : []));

/**
 * Internal types a public one refers to that users are not meant to name. `FlowRuntime.core` is the
 * runtime's internals, exposed for the package's own tools (CLI, HTTP API, test harness).
 */
const INTERNAL = new Set(["RuntimeCore"]);

const program = ts.createProgram(
  entries.map((e) => e.file),
  { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, skipLibCheck: true, noEmit: true, types: ["node"] },
);
const checker = program.getTypeChecker();
const unalias = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
const inDist = (d: ts.Node) => d.getSourceFile().fileName.startsWith(dist);
const exportsByEntry = new Map(
  entries.map((e) => {
    const sf = program.getSourceFile(e.file);
    if (!sf) throw new Error(`${e.file} is missing: run npm run build first.`);
    return [e.name, checker.getExportsOfModule(checker.getSymbolAtLocation(sf)!).map(unalias)] as const;
  }),
);
const exported = new Set([...exportsByEntry.values()].flat());

/** The declarations in dist/src that a public declaration refers to by name, skipping private members. */
function referencedSymbols(decl: ts.Node): ts.Symbol[] {
  const found: ts.Symbol[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isPropertyDeclaration(n) || ts.isMethodDeclaration(n)) && n.modifiers?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return;
    // `typeof XSchema` and `X["key"]` sit behind an exported alias (RetryConfig, OutcomeKind): users name the alias.
    if (ts.isComputedPropertyName(n) || ts.isTypeQueryNode(n)) return;
    if (ts.isIndexedAccessTypeNode(n)) return visit(n.indexType);
    let symbol: ts.Symbol | undefined;
    if (ts.isTypeReferenceNode(n)) symbol = checker.getSymbolAtLocation(ts.isQualifiedName(n.typeName) ? n.typeName.right : n.typeName);
    else if (ts.isExpressionWithTypeArguments(n)) symbol = checker.getSymbolAtLocation(n.expression);
    else if (ts.isImportTypeNode(n)) {
      const t = checker.getTypeAtLocation(n);
      symbol = t.aliasSymbol ?? t.symbol;
    }
    if (symbol && !(symbol.flags & ts.SymbolFlags.TypeParameter)) found.push(unalias(symbol));
    ts.forEachChild(n, visit);
  };
  visit(decl);
  return found.filter((s) => s.declarations?.some(inDist));
}

describe("the published type declarations", () => {
  it("are read from every entry point, so the checks below cannot pass on nothing", () => {
    expect(entries.map((e) => e.name)).toEqual(expect.arrayContaining([".", "./firebase", "./testing"]));
    expect([...exported].map((s) => s.name)).toEqual(expect.arrayContaining(["defineFlow", "createEmbeddedRuntime", "FlowRuntime", "onScheduledFlow"]));
  });

  it("export every type a public function, class or type refers to, from one of the package's entry points", () => {
    const missing: string[] = [];
    for (const [entry, symbols] of exportsByEntry) {
      for (const symbol of symbols) {
        for (const decl of (symbol.declarations ?? []).filter(inDist)) {
          for (const ref of referencedSymbols(decl)) {
            if (exported.has(ref) || INTERNAL.has(ref.name)) continue;
            missing.push(`${ref.name} (used by ${symbol.name} of "${join("firestep", entry)}")`);
          }
        }
      }
    }
    expect([...new Set(missing)]).toEqual([]);
  });

  it("have no `any` in what the entry points export", () => {
    const leaks: string[] = [];
    for (const [entry, symbols] of exportsByEntry) {
      for (const symbol of symbols) {
        for (const decl of (symbol.declarations ?? []).filter(inDist)) {
          const visit = (n: ts.Node): void => {
            if (n.kind === ts.SyntaxKind.AnyKeyword) leaks.push(`${symbol.name} of "${join("firestep", entry)}": ${n.parent.getText()}`);
            ts.forEachChild(n, visit);
          };
          visit(decl);
        }
      }
    }
    expect(leaks).toEqual([]);
  });
});
