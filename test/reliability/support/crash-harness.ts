/**
 * Parent side of the crash-injection tests: runs test/reliability/fixtures/crash-child.mjs, kills it at
 * the chosen points (the child kills itself at a labelled boundary; a timed kill comes from here), restarts it
 * until every flow has finished, and checks the store against the child's side-effect log.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Firestore } from "firebase-admin/firestore";
import { expect } from "vitest";
import { createFirestoreStore } from "../../../src/firebase/firestore-store.js";
import type { FlowStore } from "../../../src/ports.js";
import { createFileStore } from "../../../src/stores/file-store.js";

const CHILD = join(import.meta.dirname, "..", "fixtures", "crash-child.mjs");
/** The build the children load: dist/, or a frozen copy named by FIRESTEP_DIST (see docs/reliability.md). */
const DIST = join(process.env.FIRESTEP_DIST ?? join(import.meta.dirname, "..", "..", "..", "dist"), "src", "index.js");

export type Backend = "file" | "firestore";
export type QueueMode = "durable" | "local";
/**
 * A labelled boundary the child kills itself at ("claim:2:after", "effect:3", ...), or a kill from outside:
 * after a delay, or once the child has reported that many step side effects in this run (a moment that
 * falls wherever the child got to meanwhile, yet one every run reaches, however fast the machine).
 */
export type Kill = { at: string } | { afterMs: number } | { afterEffects: number };

export interface Schedule {
  name: string;
  backend: Backend;
  queue: QueueMode;
  kills: Kill[];
  flows?: number;
}

export interface ScheduleReport {
  name: string;
  /** Kills that happened (a labelled point the run never reached lets the child finish instead). */
  kills: number;
  killedAt: string[];
  /** Child processes started, the final one included. */
  runs: number;
  flows: number;
  /** Executions of a step beyond the one whose result was stored (allowed only for a result never stored). */
  reruns: number;
}

export const STEP_KEYS = ["one", "two", "p", "q", "r", "s", "t", "three"] as const;
export const expectedOutput = (i: number) => i + 10 + 1000 + 2000 + 4000 + 8000 + 16000 + 100 + "ops".length;

export function assertBuilt(): void {
  expect(existsSync(DIST), `${DIST} is missing: run \`npm run build\` (npm test does it first)`).toBe(true);
}

/** What the child prints for each step side effect it logs (start, done or fail). */
const SIDE_EFFECT_LINE = "side-effect\n";

interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function runChild(env: Record<string, string>, kill: Kill | undefined, timeoutMs: number): Promise<ChildExit> {
  const proc = spawn(process.execPath, [CHILD], { env: { ...process.env, METADATA_SERVER_DETECTION: "none", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let killed = false;
  const guard = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  proc.stdout!.on("data", (d: Buffer) => {
    const first = !out.includes("ready\n");
    out += d;
    if (first && out.includes("ready\n") && kill && "afterMs" in kill) setTimeout(() => proc.kill("SIGKILL"), kill.afterMs);
    if (kill && "afterEffects" in kill && !killed) {
      // Counted over all the output: a line may come in two chunks.
      killed = out.split(SIDE_EFFECT_LINE).length - 1 >= kill.afterEffects;
      if (killed) proc.kill("SIGKILL");
    }
  });
  proc.stderr!.on("data", (d: Buffer) => (err += d));
  return new Promise((resolve) =>
    proc.on("exit", (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, out, err });
    }),
  );
}

export interface HarnessContext {
  /** A fresh directory for this schedule's files. */
  dir: string;
  /** Firestore backend: the emulator the child connects to, a client for the checks, and a fresh collection. */
  emulatorHost?: string;
  firestore?: Firestore;
  collection?: string;
}

export async function runSchedule(s: Schedule, ctx: HarnessContext): Promise<ScheduleReport> {
  mkdirSync(ctx.dir, { recursive: true });
  const flows = s.flows ?? 3;
  const env: Record<string, string> = {
    BACKEND: s.backend,
    QUEUE: s.queue,
    STORE_DIR: join(ctx.dir, "store"),
    QUEUE_FILE: join(ctx.dir, "queue.log"),
    EFFECTS: join(ctx.dir, "effects.log"),
    FLOWS: String(flows),
    ...(ctx.emulatorHost ? { FIRESTORE_EMULATOR_HOST: ctx.emulatorHost } : {}),
    ...(ctx.collection ? { COLLECTION: ctx.collection } : {}),
  };
  const killedAt: string[] = [];
  let runs = 0;
  let finished = false;
  for (const kill of s.kills) {
    runs++;
    const exit = await runChild({ ...env, KILL_AT: "at" in kill ? kill.at : "" }, kill, 60_000);
    if (exit.signal === "SIGKILL") {
      killedAt.push("at" in kill ? kill.at : "afterMs" in kill ? `after ${kill.afterMs} ms` : `after ${kill.afterEffects} side effects`);
      continue;
    }
    expect(exit.code, `[${s.name}] a run killed at ${JSON.stringify(kill)} failed instead:\n${exit.err}`).toBe(0);
    finished = true; // the point was never reached: the run finished every flow
    break;
  }
  if (!finished) {
    runs++;
    const exit = await runChild({ ...env, KILL_AT: "" }, undefined, 90_000);
    expect(exit.code, `[${s.name}] the run after the kills (${killedAt.join(", ")}) did not finish every flow:\n${exit.err}`).toBe(0);
  }
  const store: FlowStore =
    s.backend === "file" ? createFileStore({ dir: env.STORE_DIR! }) : createFirestoreStore({ firestore: ctx.firestore!, collection: ctx.collection! });
  try {
    const reruns = await checkFlows(s.name, store, env.EFFECTS!, flows, killedAt.length);
    return { name: s.name, kills: killedAt.length, killedAt, runs, flows, reruns };
  } finally {
    await store.close?.();
  }
}

interface Effect {
  t: string;
  flow?: string;
  key?: string;
  token?: string;
}

/** Every flow succeeded with the right output, and no step whose result was stored ran again. Returns the re-runs. */
async function checkFlows(name: string, store: FlowStore, effectsFile: string, flows: number, kills: number): Promise<number> {
  const effects = readFileSync(effectsFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Effect);
  let reruns = 0;
  for (let i = 0; i < flows; i++) {
    const id = `f-${i}`;
    const loaded = await store.load(id);
    expect(loaded, `[${name}] flow ${id} is missing`).toBeDefined();
    const { record, steps } = loaded!;
    expect(record.status, `[${name}] flow ${id}: ${JSON.stringify(record)}`).toBe("succeeded");
    expect(record.output, `[${name}] flow ${id} output`).toEqual({ value: expectedOutput(i) });
    expect(record.stepCount, `[${name}] flow ${id} stepCount`).toBe(steps.length);
    expect(steps.every((st, n) => n === 0 || st.seq > steps[n - 1]!.seq), `[${name}] flow ${id} journal seqs ${steps.map((st) => st.seq)}`).toBe(true);
    expect(new Set(steps.map((st) => st.key)).size, `[${name}] flow ${id} has a step twice in its journal`).toBe(steps.length);
    expect(steps.find((st) => st.key === "approve")?.value, `[${name}] flow ${id}: the resume was lost`).toEqual({ by: "ops" });
    for (const key of STEP_KEYS) {
      const stored = steps.find((st) => st.key === key);
      expect(stored?.ok, `[${name}] flow ${id} step ${key} not stored`).toBe(true);
      const token = (stored!.value as { token: string }).token;
      const mine = effects.filter((e) => e.flow === id && e.key === key);
      const storedAt = mine.findIndex((e) => e.t === "done" && e.token === token);
      expect(storedAt, `[${name}] flow ${id} step ${key}: the stored result comes from no logged execution`).toBeGreaterThanOrEqual(0);
      const after = mine.slice(storedAt + 1).filter((e) => e.t === "start");
      expect(after, `[${name}] flow ${id} step ${key} ran again after its result was stored`).toEqual([]);
      const done = mine.filter((e) => e.t === "done").length;
      expect(done, `[${name}] flow ${id} step ${key} ran ${done} times with ${kills} kills`).toBeLessThanOrEqual(1 + kills);
      reruns += done - 1;
    }
  }
  return reruns;
}

/** A small seeded PRNG (mulberry32), so a failing random schedule can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many times each labelled point occurs in a run of three flows, roughly: kill points are drawn below these. */
const POINT_RANGE: Record<string, number> = { create: 3, claim: 16, step: 14, suspend: 9, complete: 3, resume: 3, commit: 45, enqueue: 25, effect: 16 };

export function randomSchedule(seed: number, backend: Backend): Schedule {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const kills: Kill[] = [];
  const n = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < n; k++) {
    if (rnd() < 0.3) {
      kills.push({ afterMs: Math.floor(rnd() * 900) });
      continue;
    }
    const point = pick(Object.keys(POINT_RANGE));
    const nth = 1 + Math.floor(rnd() * POINT_RANGE[point]!);
    kills.push({ at: point === "effect" ? `effect:${nth}` : `${point}:${nth}:${pick(["before", "after"])}` });
  }
  return { name: `${backend} seed ${seed}`, backend, queue: rnd() < 0.6 ? "durable" : "local", kills };
}

/** Runs `items` through `fn`, `limit` at a time. */
export async function inParallel<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

export interface Totals {
  schedules: number;
  kills: number;
  runs: number;
  flows: number;
  reruns: number;
  byPoint: Record<string, number>;
}

export function summarize(reports: ScheduleReport[]): Totals {
  const byPoint: Record<string, number> = {};
  for (const r of reports) for (const k of r.killedAt) {
    const p = k.startsWith("after") ? "timed" : k.split(":")[0]!;
    byPoint[p] = (byPoint[p] ?? 0) + 1;
  }
  return {
    schedules: reports.length,
    kills: reports.reduce((a, r) => a + r.kills, 0),
    runs: reports.reduce((a, r) => a + r.runs, 0),
    flows: reports.reduce((a, r) => a + r.flows, 0),
    reruns: reports.reduce((a, r) => a + r.reruns, 0),
    byPoint,
  };
}

export const LONG = process.env.FIRESTEP_LONG === "1";
/** Random schedules per backend in the long variant (FIRESTEP_LONG_SCHEDULES, default 500). */
export const LONG_SCHEDULES = Number(process.env.FIRESTEP_LONG_SCHEDULES ?? 500);
