#!/usr/bin/env node
/** Entry point of the `firestep` executable. */
import { main } from "./main.js";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(70);
  },
);
