#!/usr/bin/env node
/** Entry point of the `firestep` executable. */
import { main } from "./main.js";

const args = process.argv.slice(2);
const out = (line: string) => void process.stdout.write(`${line}\n`);
// With --json, stdout carries the command's JSON alone: what the flows' own code logs goes to stderr.
if (args.includes("--json")) console.log = console.info = console.debug = console.error;

main(args, process.env, out).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(70);
  },
);
