/**
 * Starts and stops the official Pub/Sub emulator (from the Google Cloud SDK) on a free loopback port. A
 * missing emulator or java is an error that says how to fix it, never a silent skip.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort, stopProcess } from "../../src/testing/local-process.js";

export const PUBSUB_EMULATOR_BIN = "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator";

export interface PubSubEmulator {
  /** "127.0.0.1:PORT", as PUBSUB_EMULATOR_HOST or the client's `apiEndpoint` wants it. */
  host: string;
  stop(): Promise<void>;
}

export interface PubSubEmulatorOptions {
  bin?: string;
  /** How long to wait for the ready line (default 30 s). */
  timeoutMs?: number;
}

export async function startPubSubEmulator(options: PubSubEmulatorOptions = {}): Promise<PubSubEmulator> {
  const bin = options.bin ?? process.env.PUBSUB_EMULATOR_BIN ?? PUBSUB_EMULATOR_BIN;
  assertPrerequisites(bin);
  const port = await freePort();
  // The launcher script execs java, so the child's pid is the emulator's.
  const child = spawn(bin, ["--host=127.0.0.1", `--port=${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    await waitForReady(child, `Server started, listening on ${port}`, options.timeoutMs ?? 30_000);
  } catch (e) {
    await stopProcess(child);
    throw e;
  }
  return { host: `127.0.0.1:${port}`, stop: () => stopProcess(child) };
}

function assertPrerequisites(bin: string): void {
  if (!existsSync(bin)) {
    throw new Error(
      `The Pub/Sub emulator is missing: ${bin} does not exist. Install it with ` +
        `\`apt-get install google-cloud-cli-pubsub-emulator\` (or \`gcloud components install pubsub-emulator\`), ` +
        `or set PUBSUB_EMULATOR_BIN to the path of its cloud-pubsub-emulator script.`,
    );
  }
  const probe = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Java is missing: "java -version" failed (${probe.error?.message ?? `exit code ${probe.status}`}). ` +
        `The Pub/Sub emulator needs a JRE on the PATH: install one (apt-get install openjdk-17-jre-headless).`,
    );
  }
}

function waitForReady(child: ChildProcess, readyLine: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => finish(new Error(`The Pub/Sub emulator did not print "${readyLine}" within ${timeoutMs} ms. Its output:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes(readyLine)) finish();
    };
    const onExit = (code: number | null) => finish(new Error(`The Pub/Sub emulator exited (code ${code}) before it was ready. Its output:\n${output}`));
    const onError = (e: Error) => finish(new Error(`Could not start the Pub/Sub emulator: ${e.message}`));
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
    function finish(error?: Error) {
      clearTimeout(timer);
      child.off("exit", onExit);
      child.off("error", onError);
      // Keep draining its output so a full pipe never blocks the emulator.
      child.stdout!.off("data", onData).resume();
      child.stderr!.off("data", onData).resume();
      if (error) reject(error);
      else resolve();
    }
  });
}
