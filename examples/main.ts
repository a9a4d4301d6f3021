/**
 * Runs an example flow end to end on the embedded runtime (files under ./.firestep, in-process queue),
 * printing each step as it runs:
 *   node dist/examples/main.js [flowName] [inputJson] [--answer JSON]...
 * Without arguments it runs approveOrder and asks for the approval at the prompt.
 */
import { fileURLToPath } from "node:url";
import { main } from "../src/cli/main.js";

const DEFAULT_INPUTS: Record<string, unknown> = {
  approveOrder: { orderId: "order-1001", coolOffSeconds: 2, pollSeconds: 1 },
  onboardUser: { email: "ada@example.com", name: "Ada" },
  provisionWorkspace: { userId: "u-1" },
  bookTrip: { traveller: "ada", hotelFull: true },
  nightlyReport: { regions: ["emea", "apac", "amer", "latam"] },
  dagReport: { day: "2026-11-21" },
};

const argv = process.argv.slice(2);
const positional = argv.filter((a, i) => !a.startsWith("--") && !(argv[i - 1]?.startsWith("--") && !argv[i - 1]!.includes("=")));
const flowName = positional[0] ?? "approveOrder";
const input = positional[1] ?? JSON.stringify(DEFAULT_INPUTS[flowName] ?? null);
const rest = argv.filter((a) => !positional.includes(a));
const examples = fileURLToPath(new URL("./index.js", import.meta.url));

process.exitCode = await main(["run", examples, flowName, input, ...rest]);
