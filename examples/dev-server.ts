/**
 * The dashboard on the embedded runtime (files under ./.firestep, or $FIRESTEP_DIR), with the example
 * flows loaded and a few of them started so there is something to look at:
 *   npm run dev            # then open the printed address
 *   PORT=9000 npm run dev
 */
import { getRuntime } from "../src/index.js";
import { startDevServer } from "../src/http/index.js";
import { approveOrder, onboardUser } from "./index.js";

const runtime = getRuntime();
const server = await startDevServer({ runtime, port: Number(process.env.PORT ?? 8787) });

const stamp = Date.now().toString(36);
await runtime.scheduleFlow(approveOrder, { orderId: `order-${stamp}`, coolOffSeconds: 3, pollSeconds: 1 });
await runtime.scheduleFlow(approveOrder, { orderId: `order-${stamp}-b`, coolOffSeconds: 5, pollSeconds: 2 }, 10);
await runtime.scheduleFlow(onboardUser, { email: "ada@example.com", name: "Ada" });

console.log(`Firestep dashboard: ${server.url}/`);
console.log("Two approveOrder flows wait for a manager's approval (one starts in 10 s); answer them in the dashboard. Ctrl+C stops.");

let stopping = false;
process.on("SIGINT", () => {
  if (stopping) return;
  stopping = true;
  void server
    .close()
    .then(() => runtime.close())
    .finally(() => process.exit(0));
});
