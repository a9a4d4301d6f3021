/**
 * Fan-out with child flows and runMap: a nightly report starts one child flow per region, awaits them
 * all, and summarises each region's rows in parallel (at most 3 at a time). `patched` shows how a
 * deploy can add a step without breaking reports already in flight.
 */
import { z } from "zod";
import { awaitFlows, onScheduledFlow, patched, run, runMap, sleep, startChild } from "../src/index.js";

export const regionReport = onScheduledFlow(
  { name: "regionReport", input: z.object({ region: z.string() }), output: z.object({ region: z.string(), rows: z.number() }) },
  async ({ region }) => {
    await sleep("wait-for-export", 1);
    return run("count-rows", () => ({ region, rows: region.length * 100 }));
  },
);

export const nightlyReport = onScheduledFlow(
  { name: "nightlyReport", input: z.object({ regions: z.array(z.string()) }), output: z.object({ total: z.number(), lines: z.array(z.string()) }) },
  async ({ regions }) => {
    const children = await Promise.all(regions.map((region) => startChild(`report-${region}`, regionReport, { region })));
    const done = await awaitFlows("all-regions", children);
    const results = done.map((op) => (op.result && "response" in op.result ? op.result.response : { region: "?", rows: 0 }));
    const lines = await runMap("summarise", results, (r) => `${r.region}: ${r.rows} rows`, { concurrency: 3 });
    if (await patched("audit-log")) await run("audit", () => `audited ${results.length} regions`);
    return { total: results.reduce((t, r) => t + r.rows, 0), lines };
  },
);
