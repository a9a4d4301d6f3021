/**
 * An onboarding sequence: an action with schemas, parallel steps, a child flow awaited with waitFor,
 * and deterministic helpers (now, uuid) so replays decide the same way.
 */
import { z } from "zod";
import { action, now, onScheduledFlow, run, runAction, scheduleFlow, sleep, uuid, waitFor } from "../src/index.js";

const welcomeEmail = action(
  { name: "welcome-email", input: z.object({ email: z.string().email(), name: z.string() }), output: z.object({ messageId: z.string() }) },
  async ({ email }) => ({ messageId: `msg-${email.length}-${Date.now() % 1000}` }),
);

export const provisionWorkspace = onScheduledFlow(
  { name: "provisionWorkspace", input: z.object({ userId: z.string() }), output: z.object({ workspaceId: z.string() }) },
  async ({ userId }) => {
    const workspaceId = await run("create-workspace", () => `ws-${userId}`);
    await sleep("let-dns-settle", 1);
    return { workspaceId };
  },
);

export const onboardUser = onScheduledFlow(
  { name: "onboardUser", input: z.object({ email: z.string(), name: z.string() }), output: z.object({ userId: z.string(), workspaceId: z.string(), messageId: z.string() }) },
  async ({ email, name }) => {
    const userId = await uuid("user-id");
    const startedAt = await now("started-at");
    const [{ messageId }, profile] = await Promise.all([
      runAction(welcomeEmail, { email, name }),
      run("create-profile", () => ({ userId, name, since: new Date(startedAt).toISOString() })),
    ]);
    const childId = await run("start-provisioning", async () => (await scheduleFlow(provisionWorkspace, { userId: profile.userId })).name);
    const [child] = await waitFor("workspace-ready", provisionWorkspace, [childId]);
    const result = child!.result;
    if (!result || !("response" in result)) throw new Error(`provisioning failed: ${JSON.stringify(result)}`);
    return { userId, workspaceId: result.response.workspaceId, messageId };
  },
);
