/**
 * An order that waits for a manager's approval, cools off, then waits for payment: run, interrupt,
 * sleep, poll and a retried step. Durations come from the input so the example finishes in seconds.
 */
import { z } from "zod";
import { interrupt, onScheduledFlow, poll, run, sleep } from "../src/index.js";

const payments = new Map<string, number>();

async function loadOrder(orderId: string) {
  return { id: orderId, total: 4200, currency: "EUR" };
}

/** Pretend payment provider: clears on the third check. */
async function paymentCleared(orderId: string): Promise<boolean> {
  const n = (payments.get(orderId) ?? 0) + 1;
  payments.set(orderId, n);
  return n >= 3;
}

export const approveOrder = onScheduledFlow(
  {
    name: "approveOrder",
    input: z.object({ orderId: z.string(), coolOffSeconds: z.number().min(0).default(2), pollSeconds: z.number().min(0).default(1) }),
    output: z.object({ orderId: z.string(), approved: z.boolean(), receipt: z.string().optional() }),
  },
  async ({ orderId, coolOffSeconds, pollSeconds }) => {
    const order = await run("load-order", () => loadOrder(orderId));
    const { approved } = await interrupt("manager-approval", z.object({ approved: z.boolean(), note: z.string().optional() }));
    if (!approved) return { orderId, approved: false };
    await sleep("cool-off", coolOffSeconds);
    await poll({ name: "wait-for-payment", pollPeriodSeconds: pollSeconds, timeoutSeconds: 86_400 }, () => paymentCleared(order.id));
    const receipt = await run({ name: "send-receipt", retryConfig: { maxAttempts: 3, minBackoffSeconds: 1 } }, async ({ attempt }) => {
      if (attempt === 1) throw new Error("mail server busy");
      return `receipt-${order.id}-${order.total}${order.currency}`;
    });
    return { orderId, approved: true, receipt };
  },
);
