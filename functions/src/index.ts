/**
 * Firestep's example flow as a Cloud Function: an `onTaskDispatched` function named after its flow.
 * Deploy with `firebase deploy --only functions`; app code schedules and resumes it with the Admin SDK
 * (`createFirebaseRuntime`) or over the HTTP API (docs/http-api.md).
 */
import { initializeApp } from "firebase-admin/app";
import { z } from "zod";
import { interrupt, now, onScheduledFlow, poll, run, sleep } from "firestep/firebase";

initializeApp();

export const approveOrder = onScheduledFlow(
  {
    name: "approveOrder",
    input: z.object({ orderId: z.string(), coolOffSeconds: z.number().min(0).default(3600), failReceiptOnce: z.boolean().default(false) }),
    output: z.object({ orderId: z.string(), approved: z.boolean(), receipt: z.string().optional() }),
    // Function options pass through to onTaskDispatched (defaults in DEFAULT_FUNCTION_OPTIONS).
    timeoutSeconds: 300,
  },
  async ({ orderId, coolOffSeconds, failReceiptOnce }) => {
    const order = await run("load-order", () => ({ id: orderId, total: 4200 }));
    const { approved } = await interrupt("manager-approval", z.object({ approved: z.boolean() }));
    if (!approved) return { orderId, approved: false };
    await sleep("cool-off", coolOffSeconds);
    // Stands in for asking a payment provider: clears two seconds after the first check.
    const firstCheck = await now("first-payment-check");
    await poll({ name: "wait-for-payment", pollPeriodSeconds: 1, timeoutSeconds: 600 }, () => Date.now() - firstCheck >= 2000);
    const receipt = await run({ name: "send-receipt", retryConfig: { maxAttempts: 3, minBackoffSeconds: 1 } }, ({ attempt }) => {
      if (failReceiptOnce && attempt === 1) throw new Error("mail server busy");
      return `receipt-${order.id}`;
    });
    return { orderId, approved: true, receipt };
  },
);
