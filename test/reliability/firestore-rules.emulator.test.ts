/**
 * firestore.rules on the official Firestore emulator, with @firebase/rules-unit-testing: no client, signed
 * in or not (an admin claim included), can read, list, write or delete flow documents or their journal
 * pages. Only the Admin SDK, which bypasses the rules, touches flow state.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assertFails, assertSucceeds, initializeTestEnvironment, type RulesTestEnvironment } from "@firebase/rules-unit-testing";
import { collection, collectionGroup, deleteDoc, doc, getDoc, getDocs, query, setDoc, updateDoc, where, type Firestore } from "firebase/firestore";
import { afterAll, beforeAll, describe, it } from "vitest";
import { emulatorHost } from "../support/firestore.js";

let env: RulesTestEnvironment;
beforeAll(async () => {
  const [host, port] = emulatorHost().split(":");
  env = await initializeTestEnvironment({
    projectId: "demo-firestep-rules",
    firestore: { host: host!, port: Number(port), rules: readFileSync(join(import.meta.dirname, "..", "..", "firestore.rules"), "utf8") },
  });
  await env.withSecurityRulesDisabled(async (ctx) => {
    const db = ctx.firestore();
    await setDoc(doc(db, "firestep-flows/flow-1"), { rec: JSON.stringify({ id: "flow-1", input: { secret: "s3cr3t" } }), flowName: "approveOrder", status: "waiting" });
    await setDoc(doc(db, "firestep-flows/flow-1/firestep-pages/g-0"), { g: "g", n: 0, j: { "0": "{}" } });
    await setDoc(doc(db, "other-collection/x"), { a: 1 });
  });
});
afterAll(() => env?.cleanup());

const CLIENTS: Array<[string, () => Firestore]> = [
  ["not signed in", () => env.unauthenticatedContext().firestore() as unknown as Firestore],
  ["signed in", () => env.authenticatedContext("alice").firestore() as unknown as Firestore],
  ["signed in with the API's admin claim", () => env.authenticatedContext("root", { firestepAdmin: true, admin: true }).firestore() as unknown as Firestore],
];

describe("firestore.rules: flow state is closed to every client", () => {
  it("the seeded documents exist (the denials below are the rules', not missing data)", async () => {
    await env.withSecurityRulesDisabled(async (ctx) => {
      await assertSucceeds(getDoc(doc(ctx.firestore(), "firestep-flows/flow-1")));
    });
  });

  describe.each(CLIENTS)("a client %s", (_who, db) => {
    it("cannot read a flow document, or list or query the collection", async () => {
      await assertFails(getDoc(doc(db(), "firestep-flows/flow-1")));
      await assertFails(getDocs(collection(db(), "firestep-flows")));
      await assertFails(getDocs(query(collection(db(), "firestep-flows"), where("status", "==", "waiting"))));
    });

    it("cannot read the journal pages, directly or by a collection-group query", async () => {
      await assertFails(getDoc(doc(db(), "firestep-flows/flow-1/firestep-pages/g-0")));
      await assertFails(getDocs(collection(db(), "firestep-flows/flow-1/firestep-pages")));
      await assertFails(getDocs(collectionGroup(db(), "firestep-pages")));
    });

    it("cannot create, overwrite, update or delete a flow or a page", async () => {
      await assertFails(setDoc(doc(db(), "firestep-flows/flow-2"), { status: "running" }));
      await assertFails(setDoc(doc(db(), "firestep-flows/flow-1"), { status: "succeeded" }));
      await assertFails(updateDoc(doc(db(), "firestep-flows/flow-1"), { status: "succeeded" }));
      await assertFails(deleteDoc(doc(db(), "firestep-flows/flow-1")));
      await assertFails(setDoc(doc(db(), "firestep-flows/flow-1/firestep-pages/g-9"), { j: {} }));
      await assertFails(deleteDoc(doc(db(), "firestep-flows/flow-1/firestep-pages/g-0")));
    });

    it("cannot touch a flow collection under another name either (nothing else is allowed)", async () => {
      await assertFails(getDoc(doc(db(), "other-collection/x")));
      await assertFails(setDoc(doc(db(), "other-collection/y"), { a: 2 }));
    });
  });
});
