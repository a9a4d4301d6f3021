/**
 * Starts and stops the official Cloud Firestore emulator (the jar Debian's google-cloud-cli-firestore-emulator
 * installs) on a free loopback port. firebase-tools cannot start it here (it wants Java 21), so we run the
 * jar ourselves. A missing jar or java is an error that says how to fix it, never a silent skip.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort, stopProcess } from "../../src/testing/local-process.js";

export const EMULATOR_JAR = "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar";
const MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore";
const READY_LINE = "Dev App Server is now running.";

export interface FirestoreEmulator {
  /** "127.0.0.1:PORT", as FIRESTORE_EMULATOR_HOST wants it. */
  host: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  jar?: string;
  java?: string;
  /** How long to wait for the ready line (default 30 s). */
  timeoutMs?: number;
}

export async function startFirestoreEmulator(options: StartOptions = {}): Promise<FirestoreEmulator> {
  const jar = options.jar ?? process.env.FIRESTORE_EMULATOR_JAR ?? EMULATOR_JAR;
  const java = options.java ?? "java";
  assertPrerequisites(jar, java);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const child = spawn(java, ["-Duser.language=en", "-cp", jar, MAIN_CLASS, "--host=127.0.0.1", `--port=${port}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    await waitForReady(child, options.timeoutMs ?? 30_000);
  } catch (e) {
    await stopProcess(child);
    throw e;
  }
  return { host, stop: () => stopProcess(child) };
}

function assertPrerequisites(jar: string, java: string): void {
  if (!existsSync(jar)) {
    throw new Error(
      `The Cloud Firestore emulator jar is missing: ${jar} does not exist. Install Debian's ` +
        `google-cloud-cli-firestore-emulator package (apt-get install google-cloud-cli-firestore-emulator), ` +
        `or set FIRESTORE_EMULATOR_JAR to the path of cloud-firestore-emulator.jar.`,
    );
  }
  const probe = spawnSync(java, ["-version"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Java is missing: "${java} -version" failed (${probe.error?.message ?? `exit code ${probe.status}`}). ` +
        `The Firestore emulator needs a JRE 11 or newer on the PATH: install one (apt-get install openjdk-17-jre-headless).`,
    );
  }
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error(`The Firestore emulator did not print "${READY_LINE}" within ${timeoutMs} ms. Its output:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes(READY_LINE)) done();
    };
    const onExit = (code: number | null) => fail(new Error(`The Firestore emulator exited (code ${code}) before it was ready. Its output:\n${output}`));
    const onError = (e: Error) => fail(new Error(`Could not start the Firestore emulator: ${e.message}`));
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
    function cleanup() {
      clearTimeout(timer);
      child.off("exit", onExit);
      child.off("error", onError);
      // Keep draining its output so a full pipe never blocks the emulator.
      child.stdout!.off("data", onData).resume();
      child.stderr!.off("data", onData).resume();
    }
    function done() {
      cleanup();
      resolve();
    }
    function fail(e: Error) {
      cleanup();
      reject(e);
    }
  });
}
