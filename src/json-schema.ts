/**
 * A zod schema as JSON Schema, for clients that build a form from it (the dashboard's interrupt and
 * signal forms). One conversion for every schema a client sees, so the forms read them alike.
 */
import { z } from "zod";

/** `{ schema }` with the JSON Schema, or `{}` when zod cannot convert it: a client then asks for plain JSON. */
export function schemaField(schema: z.ZodType): { schema?: unknown } {
  try {
    return { schema: z.toJSONSchema(schema, { unrepresentable: "any" }) };
  } catch {
    return {};
  }
}
