/** How the CLI prints flows, steps and events for people (scripts use --json). */
import type { FlowEvent } from "../runtime/runtime-core.js";
import type { FlowDetails } from "../runtime/runtime.js";
import type { FlowRecord } from "../schemas.js";

/** A wait's end as ISO time; older versions could store one past what a Date holds, which must not stop a listing. */
function until(ms: number): string {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : `${ms} ms (not a date)`;
}

export function describeWait(r: FlowRecord): string {
  if (r.status === "paused") return `paused (was ${r.pausedFrom ?? "scheduled"})`;
  if (!r.waits.length) return r.status;
  return r.waits
    .map((w) => {
      switch (w.kind) {
        case "interrupt":
          return `interrupt "${w.name}"${w.until ? ` until ${until(w.until)}` : ""}`;
        case "signal":
          return `signal "${w.name}"${w.until ? ` until ${until(w.until)}` : ""}`;
        case "flows":
          return `flows ${w.flowIds.join(", ")}`;
        default:
          return `${w.kind} "${w.step}" until ${until(w.until)}`;
      }
    })
    .join("; ");
}

export function formatEvent(e: FlowEvent): string {
  const parts = [`[${e.type}]`];
  if (e.step) parts.push(`"${e.step}"`);
  if (e.attempt !== undefined && e.attempt > 1) parts.push(`attempt ${e.attempt}`);
  if (e.durationMs !== undefined) parts.push(`${e.durationMs} ms`);
  if (e.detail) parts.push(`- ${e.detail}`);
  return parts.join(" ");
}

export function formatList(flows: FlowRecord[]): string {
  if (!flows.length) return "No flows.";
  const rows = flows.map((r) => [r.id, r.flowName, r.status, new Date(r.createdAt).toISOString(), describeWait(r)]);
  const head = ["ID", "FLOW", "STATUS", "CREATED", "WAITING FOR"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [head, ...rows].map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

export function formatDetails(d: FlowDetails): string {
  const r = d.record;
  const lines = [
    `Flow ${r.id} (${r.flowName}${r.version ? ` v${r.version}` : ""})`,
    `  status:   ${r.status}${r.waits.length ? ` - waiting for ${describeWait(r)}` : ""}`,
    `  created:  ${new Date(r.createdAt).toISOString()}   updated: ${new Date(r.updatedAt).toISOString()}`,
    `  input:    ${JSON.stringify(r.input)}`,
  ];
  if (r.status === "succeeded") lines.push(`  output:   ${JSON.stringify(r.output?.value)}`);
  if (r.error) lines.push(`  error:    ${r.error.code}: ${r.error.message}`);
  lines.push("", `Steps (${d.steps.length}):`);
  for (const s of d.steps) {
    const what = s.ok ? JSON.stringify(s.value) ?? "undefined" : `FAILED ${s.error?.code}: ${s.error?.message}`;
    lines.push(`  ${String(s.seq).padStart(3)}  ${s.kind.padEnd(9)} ${s.key.padEnd(24)} ${s.endedAt - s.startedAt} ms  x${s.attempts}  ${truncate(what, 80)}`);
  }
  lines.push("", `History (${d.history.length}):`);
  for (const e of d.history) lines.push(`  ${new Date(e.at).toISOString()}  ${formatEvent({ ...e, flowId: r.id, flowName: r.flowName })}`);
  return lines.join("\n");
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
