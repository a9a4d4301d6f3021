/**
 * A report built as a DAG: two sources fetched in parallel, merged once both are in, then published.
 * Each step is a durable step named by its id; `dagWaves(dagReport)` gives [["fetch-a", "fetch-b"], ["merge"], ["publish"]].
 */
import { z } from "zod";
import { defineDagFlow } from "../src/index.js";

const Rows = z.array(z.object({ region: z.string(), total: z.number() }));

async function fetchSales(source: string, day: string) {
  return [{ region: `${source}-north`, total: day.length * 10 }, { region: `${source}-south`, total: day.length * 7 }];
}

export const dagReport = defineDagFlow({
  name: "dagReport",
  input: z.object({ day: z.string() }),
  output: z.object({ day: z.string(), url: z.string(), total: z.number() }),
  steps: {
    "fetch-a": { run: ({ input }) => fetchSales("a", input.day) },
    "fetch-b": {
      run: ({ input }) => fetchSales("b", input.day),
      retryConfig: { maxAttempts: 3, minBackoffSeconds: 1 },
    },
    merge: {
      needs: ["fetch-a", "fetch-b"],
      run: ({ outputs }) => {
        const rows = [...Rows.parse(outputs["fetch-a"]), ...Rows.parse(outputs["fetch-b"])];
        return { rows, total: rows.reduce((sum, r) => sum + r.total, 0) };
      },
    },
    publish: {
      needs: ["merge"],
      run: ({ input }) => ({ url: `https://reports.example.com/${input.day}.html` }),
    },
  },
  result: ({ input, outputs }) => ({ day: input.day, url: outputs.publish.url, total: outputs.merge.total }),
});
