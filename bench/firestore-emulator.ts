/**
 * Starts and stops the official Cloud Firestore emulator jar on a free loopback port for the Firestore
 * benchmark (the same way the tests do; firebase-tools cannot start it on Java 17). A missing jar or java
 * fails with what to install.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort, stopProcess } from "../src/testing/local-process.js";

const EMULATOR_JAR = "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar";
const MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore";
const READY_LINE = "Dev App Server is now running.";

export interface Emulator {
  /** "127.0.0.1:PORT", as FIRESTORE_EMULATOR_HOST wants it. */
  host: string;
  stop(): Promise<void>;
}

export async function startEmulator(): Promise<Emulator> {
  const jar = process.env.FIRESTORE_EMULATOR_JAR ?? EMULATOR_JAR;
  if (!existsSync(jar)) {
    throw new Error(`The Cloud Firestore emulator jar is missing (${jar}): apt-get install google-cloud-cli-firestore-emulator, or set FIRESTORE_EMULATOR_JAR.`);
  }
  const probe = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) throw new Error("Java is missing: the Firestore emulator needs a JRE 11+ on the PATH (apt-get install openjdk-17-jre-headless).");
  const port = await freePort();
  const child = spawn("java", ["-Duser.language=en", "-cp", jar, MAIN_CLASS, "--host=127.0.0.1", `--port=${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    await ready(child, 30_000);
  } catch (e) {
    await stopProcess(child);
    throw e;
  }
  return { host: `127.0.0.1:${port}`, stop: () => stopProcess(child) };
}

function ready(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => finish(new Error(`The Firestore emulator was not ready within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes(READY_LINE)) finish();
    };
    const onExit = (code: number | null) => finish(new Error(`The Firestore emulator exited (code ${code}) before it was ready:\n${output}`));
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", onExit);
    function finish(e?: Error) {
      clearTimeout(timer);
      child.off("exit", onExit);
      child.stdout!.off("data", onData).resume(); // keep draining, so a full pipe never blocks it
      child.stderr!.off("data", onData).resume();
      if (e) reject(e);
      else resolve();
    }
  });
}
