/** Runs the built `firestep` executable on a store directory of the test's own, in a child process. */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..", "..");
export const bin = join(root, "dist", "src", "cli", "bin.js");
export const examples = join(root, "dist", "examples", "index.js");

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

export interface CliSession {
  dir: string;
  /** Runs a command to its end; `--dir` is added last. */
  run(...args: string[]): CliResult;
  /** Starts a command; `until(text)` resolves once its output contains `text`. */
  start(...args: string[]): RunningCli;
  remove(): void;
}

export interface RunningCli {
  until(text: string): Promise<void>;
  exited: Promise<CliResult>;
}

/** Runs a command line as the CLI printed it (quoted for a POSIX shell), with `firestep` standing for the built executable. */
export function runAsPrinted(line: string): CliResult {
  const r = spawnSync("sh", ["-c", `"${process.execPath}" "${bin}" ${line.replace(/^firestep /, "")}`], { encoding: "utf8", timeout: 60_000, env: cliEnv() });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The environment without the store settings of whoever runs the tests. */
export function cliEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["FIRESTEP_DIR", "FIRESTEP_BACKEND", "GCLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT"]) delete env[k];
  return env;
}

export function cliSession(prefix = "firestep-cli-"): CliSession {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    run(...args) {
      const r = spawnSync(process.execPath, [bin, ...args, "--dir", dir], { encoding: "utf8", timeout: 60_000, env: cliEnv() });
      return { code: r.status, out: r.stdout, err: r.stderr };
    },
    start(...args) {
      const child = spawn(process.execPath, [bin, ...args, "--dir", dir], { env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
      return watch(child);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Collects a child's output and lets a test wait for a piece of it. */
export function watch(child: import("node:child_process").ChildProcess): RunningCli {
  let out = "";
  let err = "";
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const check = () => {
    for (const w of [...waiters]) if (out.includes(w.text)) waiters.splice(waiters.indexOf(w), 1) && w.resolve();
  };
  child.stdout!.setEncoding("utf8").on("data", (d: string) => ((out += d), check()));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<CliResult>((resolve) => child.on("close", (code) => resolve({ code, out, err })));
  return {
    until: (text) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ text, resolve });
        check();
        void exited.then((r) => reject(new Error(`exited (${r.code}) before printing ${JSON.stringify(text)}:\n${r.out}\n${r.err}`)));
      }),
    exited,
  };
}
