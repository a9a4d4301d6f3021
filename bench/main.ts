/**
 * `npm run bench`: runs each scenario several times in fresh processes and prints medians.
 *   node dist/bench/main.js [--runs N] [--quick] [--only NAME]
 */
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1]) || 3;
const quick = args.includes("--quick");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const script = fileURLToPath(new URL("./scenarios.js", import.meta.url));

interface Plan {
  name: string;
  scenario: string;
  store: "memory" | "file";
  arg?: string;
  /** Node options for the scenario's process. */
  node?: string[];
  show: string[];
}

const plans: Plan[] = [
  { name: "disk: one durable 700-byte write", scenario: "disk", store: "file", show: ["segmentWriteUs", "segmentDirectWriteUs", "appendSyncUs", "ceilingStepsPerSec"] },
  { name: "1 flow x 1,000 steps (memory)", scenario: "one-flow-1000", store: "memory", show: ["stepsPerSec", "usPerStep", "coldStepsPerSec", "peakRssMb"] },
  { name: "1 flow x 1,000 steps (file, fsync)", scenario: "one-flow-1000", store: "file", show: ["stepsPerSec", "usPerStep", "writeUs", "usOutsideWrite", "ofWriteCeiling", "fsyncUs", "ofFsyncCeiling", "coldStepsPerSec", "syncsPerStep", "peakRssMb"] },
  { name: "1 flow x 1,000 steps, 10 KB input (file, fsync)", scenario: "one-flow-1000", store: "file", arg: "10000", show: ["stepsPerSec", "usPerStep", "writeUs", "usOutsideWrite", "ofWriteCeiling", "ofFsyncCeiling", "syncsPerStep", "bytesWrittenPerStep", "peakRssMb"] },
  { name: "1 flow x 1,000 steps, 10 at a time (memory)", scenario: "parallel-1000", store: "memory", arg: "10", show: ["stepsPerSec", "usPerStep", "peakRssMb"] },
  { name: "1 flow x 1,000 steps, 10 at a time (file, fsync)", scenario: "parallel-1000", store: "file", arg: "10", show: ["stepsPerSec", "usPerStep", "writeUs", "syncsPerStep", "peakRssMb"] },
  { name: "200 flows x 10 steps (memory)", scenario: "flows-x10", store: "memory", arg: "200", show: ["ms", "flowsPerSec", "coldMs", "peakRssMb"] },
  { name: "200 flows x 10 steps (file)", scenario: "flows-x10", store: "file", arg: "200", show: ["ms", "flowsPerSec", "coldMs", "syncs", "groupCommits", "peakRssMb"] },
  { name: "500 flows x 10 steps (memory)", scenario: "flows-x10", store: "memory", arg: "500", show: ["ms", "flowsPerSec", "stepsPerSec", "peakRssMb"] },
  { name: "500 flows x 10 steps (file)", scenario: "flows-x10", store: "file", arg: "500", show: ["ms", "flowsPerSec", "stepsPerSec", "syncs", "peakRssMb"] },
  { name: "latency (file)", scenario: "latency", store: "file", show: ["sleep0MedianMs", "sleep0P95Ms", "resumeMedianMs", "resumeP95Ms", "writeUs", "sleep0Syncs", "resumeSyncs"] },
  ...["10", "100", "1000"].map((n) => ({
    name: `replay, suspend after each step, N=${n} (file)`, scenario: "replay", store: "file" as const, arg: n,
    show: ["ms", "msPerWake", "continued", "replayedSteps", "bytesRead", "bytesWritten", "bytesWrittenPerStep", "syncs"],
  })),
  // The same with no execution kept warm: every wake-up replays the journal, as when each lands on a new process.
  ...["10", "100", "1000"].map((n) => ({
    name: `replay, every wake-up cold, N=${n} (file)`, scenario: "replay-cold", store: "file" as const, arg: n,
    show: ["ms", "msPerWake", "continued", "replayedSteps", "bytesRead", "bytesWritten", "syncs"],
  })),
  // Once with Node's defaults (a heap limit of 4.3 GB on this machine, under which V8 lets the old generation
  // grow to four times what is live, and a young generation of up to 2 x 16 MB); once with a heap limit sized
  // to the work; once with a smaller young generation as well (see docs/performance.md, Tuning).
  ...(quick
    ? []
    : [[], ["--max-old-space-size=256"], ["--max-old-space-size=256", "--max-semi-space-size=4"]].map((node) => ({
        name: `10,000 sleeping flows (file${node.length ? ", " + node.join(" ") : ""})`, scenario: "sleeping-10k", store: "file" as const, arg: "10000", node,
        show: ["rssSettledMb", "heapSettledMb", "heapTotalSettledMb", "rssAfterBurstMb", "heapTotalAfterBurstMb", "newSpaceAfterBurstMb", "scheduledMs", "scheduledCpuUsPerFlow", "scheduledBytesReadPerFlow", "scheduledSyncsPerFlow", "wakeAllMs", "wakeUpsPerSec", "peakRssAwakeMb", "peakRssMb"],
      }))),
  // Benchmark 6's control, with Node's defaults: the same burst of flows that finish, so none is left asleep.
  ...(quick
    ? []
    : [{
        name: "10,000 flows that finish, same burst (file)", scenario: "finished-10k", store: "file" as const, arg: "10000",
        show: ["rssBeforeMb", "rssAfterBurstMb", "heapAfterBurstMb", "heapTotalAfterBurstMb", "newSpaceAfterBurstMb", "scheduledMs", "peakRssMb"],
      }]),
];

console.log(`firestep bench - ${new Date().toISOString()} - node ${process.version} - ${cpus().length} x ${cpus()[0]?.model ?? "cpu"} - ${Math.round(totalmem() / 2 ** 30)} GiB - median of ${runs} runs\n`);
for (const p of plans) {
  if (only && !p.name.includes(only) && p.scenario !== only) continue;
  const results: Array<Record<string, number>> = [];
  for (let i = 0; i < (p.scenario === "sleeping-10k" ? 1 : runs); i++) {
    const out = execFileSync(process.execPath, [...(p.node ?? []), "--expose-gc", script, p.scenario, p.store, p.arg ?? ""], { encoding: "utf8", maxBuffer: 1 << 24 });
    results.push(JSON.parse(out.trim().split("\n").pop()!) as Record<string, number>);
  }
  const cells = p.show.map((k) => `${k}=${fmt(median(results.map((r) => r[k]!)))}`);
  console.log(`${p.name.padEnd(48)} ${cells.join("  ")}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2);
}
