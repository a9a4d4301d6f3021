/**
 * schema-form.js: a form for an interrupt's or a signal's JSON Schema (as zod's toJSONSchema writes it).
 * Objects become fieldsets, booleans checkboxes, strings text inputs, numbers number inputs, enums
 * selects; anything else (arrays, unions, references) a JSON textarea. The form does not validate: the server
 * checks the payload against the same schema and its message is what the user sees.
 */
export const SCHEMA_FORM_JS = String.raw`
import { h } from "./dom.js";

let formCount = 0;

/** { fields: Node, read(): { ok: true, value } | { ok: false, message, input } } */
export function buildSchemaForm(schema) {
  const prefix = "sf" + (++formCount);
  if (isObjectSchema(schema)) {
    const children = objectFields(schema, prefix, []);
    return {
      fields: h("div", { class: "schema-fields" }, children.map((c) => c.el)),
      read: () => readObject(children),
    };
  }
  const field = jsonField(schema, prefix + "-payload", "Payload (JSON)", true);
  return { fields: field.el, read: () => field.read() };
}

function isObjectSchema(s) {
  return !!s && typeof s === "object" && s.type === "object" && s.properties && typeof s.properties === "object" && !s.$ref;
}

function objectFields(schema, prefix, path) {
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(schema.properties).map(([name, sub]) =>
    Object.assign(fieldFor(sub, prefix, path.concat(name), required.has(name)), { name }));
}

function readObject(children) {
  const out = {};
  for (const c of children) {
    const r = c.read();
    if (!r.ok) return r;
    if (r.value !== undefined) out[c.name] = r.value;
  }
  return { ok: true, value: out };
}

function fieldFor(schema, prefix, path, required) {
  const id = prefix + "-" + path.map((p) => String(p).replace(/[^A-Za-z0-9_-]/g, "_")).join("-");
  const label = (schema && schema.title) || path[path.length - 1];
  if (!schema || typeof schema !== "object") return jsonField(schema, id, label, required);
  if (isObjectSchema(schema)) {
    const children = objectFields(schema, prefix, path);
    const el = h("fieldset", {}, h("legend", {}, label, required ? null : optionalMark()), description(schema, id), children.map((c) => c.el));
    return { el, read: () => readObject(children) };
  }
  if (Array.isArray(schema.enum) && schema.enum.length && schema.enum.every(isPrimitive)) return enumField(schema, id, label, required);
  switch (schema.type) {
    case "boolean": return booleanField(schema, id, label);
    case "string": return stringField(schema, id, label, required);
    case "number":
    case "integer": return numberField(schema, id, label, required);
    default: return jsonField(schema, id, label, required);
  }
}

function isPrimitive(v) {
  return v === null || ["string", "number", "boolean"].includes(typeof v);
}

function optionalMark() {
  return h("span", { class: "optional" }, " (optional)");
}

function description(schema, id) {
  return schema && schema.description ? h("small", { id: id + "-desc", class: "hint" }, schema.description) : null;
}

function labelled(schema, id, label, required, input) {
  return h("div", { class: "field" },
    h("label", { for: id }, label, required ? null : optionalMark()),
    description(schema, id),
    input);
}

function common(schema, id, required) {
  return { id, name: id, "aria-describedby": schema.description ? id + "-desc" : null, "aria-required": required ? "true" : null };
}

function booleanField(schema, id, label) {
  const input = h("input", { ...common(schema, id, false), type: "checkbox", checked: schema.default === true });
  const el = h("div", { class: "field field-check" }, input, h("label", { for: id }, label), description(schema, id));
  return { el, read: () => ({ ok: true, value: input.checked }) };
}

function stringField(schema, id, label, required) {
  const long = typeof schema.maxLength === "number" && schema.maxLength > 200;
  const type = schema.format === "email" ? "email" : schema.format === "uri" ? "url" : "text";
  const attrs = { ...common(schema, id, required), autocomplete: "off" };
  const input = long ? h("textarea", { ...attrs, rows: "3" }) : h("input", { ...attrs, type });
  if (typeof schema.default === "string") input.value = schema.default;
  return {
    el: labelled(schema, id, label, required, input),
    read: () => ({ ok: true, value: input.value === "" && !required ? undefined : input.value }),
  };
}

function numberField(schema, id, label, required) {
  const input = h("input", { ...common(schema, id, required), type: "number", step: schema.type === "integer" ? "1" : "any", inputmode: schema.type === "integer" ? "numeric" : "decimal" });
  if (typeof schema.default === "number") input.value = String(schema.default);
  return {
    el: labelled(schema, id, label, required, input),
    read() {
      if (input.value === "") return { ok: true, value: undefined };
      const n = Number(input.value);
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: label + " must be a number.", input };
    },
  };
}

function enumField(schema, id, label, required) {
  const values = schema.enum;
  const select = h("select", common(schema, id, required),
    required && schema.default !== undefined ? null : h("option", { value: "" }, required ? "Choose…" : "(none)"),
    values.map((v, i) => h("option", { value: String(i), selected: v === schema.default }, v === null ? "null" : String(v))));
  return {
    el: labelled(schema, id, label, required, select),
    read: () => ({ ok: true, value: select.value === "" ? undefined : values[Number(select.value)] }),
  };
}

function jsonField(schema, id, label, required) {
  const area = h("textarea", { ...common(schema || {}, id, required), rows: "4", spellcheck: "false", class: "mono" });
  if (schema && schema.default !== undefined) area.value = JSON.stringify(schema.default, null, 2);
  const hint = h("small", { class: "hint" }, "JSON" + (schema && (schema.type || schema.anyOf) ? ", matching " + summarize(schema) : ""));
  return {
    el: h("div", { class: "field" }, h("label", { for: id }, label, required ? null : optionalMark()), hint, area),
    read() {
      if (area.value.trim() === "") return { ok: true, value: undefined };
      try {
        return { ok: true, value: JSON.parse(area.value) };
      } catch (e) {
        return { ok: false, message: label + " is not valid JSON: " + e.message, input: area };
      }
    },
  };
}

function summarize(schema) {
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map(summarize).join(" or ");
  if (schema.type === "array") return "an array" + (schema.items && schema.items.type ? " of " + schema.items.type + "s" : "");
  return Array.isArray(schema.type) ? schema.type.join(" or ") : String(schema.type || "any value");
}
`;
