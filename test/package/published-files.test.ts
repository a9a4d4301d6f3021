/**
 * What `npm pack` ships: every import in the published JavaScript and type declarations names a package
 * the manifest declares (so a user's install and `tsc` find it), and every source map points at a file
 * that ships too. Reads `dist/src`, which `npm test` builds first.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);

/** The files `npm pack` would publish, from npm itself. */
const packed: string[] = (
  JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as Array<{
    files: Array<{ path: string }>;
  }>
)[0]!.files.map((f) => f.path);

/** Statements `import ... from "x"`, `export ... from "x"` and `import "x"`, and calls `import("x")`. */
const specifiers = (text: string) =>
  [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/gm),
    ...text.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
    ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]!);
const packageOf = (spec: string) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
const isBuiltin = (spec: string) => spec.startsWith("node:") || builtinModules.includes(spec);

describe("the published package", () => {
  it("ships the compiled code, its types and the sources its maps point at, and no tests", () => {
    expect(packed).toContain("dist/src/index.js");
    expect(packed).toContain("dist/src/index.d.ts");
    expect(packed.filter((p) => /(^|\/)test\/|\.test\.[jt]s$/.test(p))).toEqual([]);
  });

  it("imports, in its code and its types, only Node's modules and packages its manifest declares", () => {
    const undeclared = new Set<string>();
    for (const file of packed.filter((p) => p.startsWith("dist/") && /\.(js|d\.ts)$/.test(p))) {
      for (const spec of specifiers(readFileSync(join(root, file), "utf8"))) {
        if (spec.startsWith(".") || isBuiltin(spec)) continue;
        if (!declared.has(packageOf(spec))) undeclared.add(`${packageOf(spec)} (in ${file})`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });

  it("has every source map pointing at a source file that ships with it", () => {
    const maps = packed.filter((p) => p.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(root, map), "utf8")) as { sources: string[] };
      for (const source of sources) {
        const path = join(dirname(map), source);
        if (!packed.includes(path) || !existsSync(join(root, path))) missing.push(`${map} -> ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
