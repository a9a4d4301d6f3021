/**
 * A support ticket that takes messages as signals, answers "how many messages so far?" as a query
 * without running a step, escalates if nobody replies within a day (an interrupt with a timeout), and
 * must be closed within a week (a flow deadline). Work for one customer runs one ticket at a time
 * (a concurrency key).
 */
import { z } from "zod";
import { interrupt, onScheduledFlow, run, waitForSignal } from "../src/index.js";

export const supportTicket = onScheduledFlow(
  {
    name: "supportTicket",
    input: z.object({ customer: z.string(), subject: z.string() }),
    output: z.object({ messages: z.array(z.string()), resolution: z.string() }),
    signals: { message: z.object({ text: z.string() }) },
    queries: { messageCount: (view) => Object.keys(view.steps).filter((k) => k.startsWith("signal:message")).length },
    deadlineSeconds: 7 * 86_400,
    concurrencyKey: { key: (input) => input.customer, limit: 1 },
  },
  async ({ customer, subject }) => {
    await run("open-ticket", () => `opened "${subject}" for ${customer}`);
    const messages: string[] = [];
    for (let i = 0; i < 2; i++) messages.push((await waitForSignal<{ text: string }>("message")).text);
    const { resolution } = await interrupt("agent-reply", z.object({ resolution: z.string() }), {
      timeoutSeconds: 86_400,
      timeoutValue: { resolution: "escalated: no reply within a day" },
    });
    return { messages, resolution };
  },
);
