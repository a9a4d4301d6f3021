/**
 * The runtime's counters and histograms, kept in memory per process and rendered in the Prometheus text
 * format. Cheap enough for every step: a map lookup and an add.
 */
import type { Outcome } from "../engine/invoke.js";
import type { FlowRecord } from "../schemas.js";

type Labels = Record<string, string>;

const BUCKETS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 3600000];

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly gauges = new Map<string, () => number>();

  count(name: string, labels: Labels = {}, by = 1): void {
    const k = key(name, labels);
    this.counters.set(k, (this.counters.get(k) ?? 0) + by);
  }

  /** An increment for one counter and label set, for counts taken on every step (the key is built once). */
  counter(name: string, labels: Labels = {}): () => void {
    const k = key(name, labels);
    return () => this.counters.set(k, (this.counters.get(k) ?? 0) + 1);
  }

  observe(name: string, ms: number, labels: Labels = {}): void {
    const k = key(name, labels);
    let h = this.histograms.get(k);
    if (!h) this.histograms.set(k, (h = { buckets: BUCKETS_MS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS_MS.length; i++) if (ms <= BUCKETS_MS[i]!) h.buckets[i]!++;
    h.sum += ms;
    h.count++;
  }

  gauge(name: string, read: () => number): void {
    this.gauges.set(name, read);
  }

  observeInvocation(outcome: Exclude<Outcome, { kind: "stopped" }>, final: FlowRecord): void {
    const flow = final.flowName;
    this.count("steps_replayed_total", { flow }, outcome.replayed);
    this.count("steps_run_total", { flow }, outcome.executed);
    for (const e of outcome.events) {
      if (e.type === "step.failed") this.count("steps_failed_total", { flow });
      if (e.type === "step.retrying") this.count("step_retries_total", { flow });
      if (e.type === "step.completed" && e.durationMs !== undefined) this.observe("step_duration_ms", e.durationMs, { flow });
    }
    if (outcome.kind === "succeeded" || outcome.kind === "failed") {
      this.count("flows_finished_total", { flow, status: final.status });
      if (final.finishedAt !== undefined) this.observe("flow_duration_ms", final.finishedAt - final.createdAt, { flow, status: final.status });
    }
  }

  /** A value for tests and the CLI. */
  value(name: string, labels: Labels = {}): number {
    return this.counters.get(key(name, labels)) ?? 0;
  }

  /** Prometheus text exposition (names prefixed `firestep_`). */
  render(): string {
    const lines: string[] = [];
    const typed = new Set<string>();
    const typeLine = (name: string, type: string) => {
      if (!typed.has(name)) lines.push(`# TYPE firestep_${name} ${type}`), typed.add(name);
    };
    for (const [k, v] of [...this.counters].sort()) {
      const [name, labels] = split(k);
      typeLine(name, "counter");
      lines.push(`firestep_${name}${labels} ${v}`);
    }
    for (const [name, read] of this.gauges) {
      typeLine(name, "gauge");
      lines.push(`firestep_${name} ${read()}`);
    }
    for (const [k, h] of [...this.histograms].sort()) {
      const [name, labels] = split(k);
      typeLine(name, "histogram");
      const inner = labels ? labels.slice(1, -1) + "," : "";
      BUCKETS_MS.forEach((b, i) => lines.push(`firestep_${name}_bucket{${inner}le="${b}"} ${h.buckets[i]}`));
      lines.push(`firestep_${name}_bucket{${inner}le="+Inf"} ${h.count}`);
      lines.push(`firestep_${name}_sum${labels} ${h.sum}`);
      lines.push(`firestep_${name}_count${labels} ${h.count}`);
    }
    return lines.join("\n") + "\n";
  }
}

function key(name: string, labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return name;
  if (names.length === 1) return `${name}{${names[0]}="${labelValue(labels[names[0]!]!)}"}`; // the common case, without sorting
  return `${name}{${names
    .sort()
    .map((k) => `${k}="${labelValue(labels[k]!)}"`)
    .join(",")}}`;
}

function labelValue(v: string): string {
  const s = String(v);
  return UNSAFE_LABEL.test(s) ? s.replace(/["\\\n]/g, "_") : s;
}
const UNSAFE_LABEL = /["\\\n]/;

function split(k: string): [string, string] {
  const i = k.indexOf("{");
  return i < 0 ? [k, ""] : [k.slice(0, i), k.slice(i)];
}
