/**
 * Helpers for the type tests in this folder. These files are compiled by `npm run typecheck` and never
 * run: a wrong type is a tsc error, and a call that must be refused carries `@ts-expect-error` (which is
 * itself an error once the call compiles).
 */

/** True only when A and B are the same type (not merely assignable either way; `any` equals only `any`). */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** `type _ = Expect<Equals<Actual, Expected>>` fails to compile unless the types are equal. */
export type Expect<T extends true> = T;

/** `expectType<Expected>(value)` fails unless `value`'s type is exactly `Expected`. */
export function expectType<Expected>(): <Actual>(value: Actual, ..._exact: Equals<Actual, Expected> extends true ? [] : [Actual, "is not", Expected]) => void {
  return () => undefined;
}
