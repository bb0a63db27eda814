/**
 * @file A strict JSON parser (RFC 8259) for safetensors headers. Unlike `JSON.parse` it refuses
 * duplicate object keys (compared after unescaping, so `"a"` and `"\u0061"` collide), keeps
 * numbers as their exact source text (offsets may exceed 2^53), keeps object key order (objects
 * are `Map`s, so a key `__proto__` is an ordinary key) and refuses lone surrogate escapes.
 */
import { SafetensorsError } from "./errors.js";

/**
 * A JSON number kept as its source text (see {@link parseJsonStrict}), so large or fractional
 * values can be checked exactly (`BigInt(n.text)`).
 *
 * @throws never.
 * @example `(parseJsonStrict("[18446744073709551615]") as JsonNumber[])[0].text; // "18446744073709551615"`
 */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** A parsed JSON value: objects are `Map`s in source order, numbers {@link JsonNumber}s. */
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | Map<string, JsonValue>;

/** Nesting depth refused beyond this (serde_json's recursion limit). */
const MAX_DEPTH = 128;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/**
 * Parses `text` as one JSON value with optional surrounding whitespace (space, tab, LF, CR).
 *
 * @throws {TypeError} when `text` is not a string.
 * @throws {SafetensorsError} `invalid_json` for anything that is not JSON (with the offset),
 * `duplicate` for a key repeated in one object (naming the key).
 * @example
 * ```ts
 * const v = parseJsonStrict('{"a":[1,2]}') as Map<string, JsonValue>;
 * (v.get("a") as JsonNumber[])[1].text; // "2"
 * parseJsonStrict('{"a":1,"\\u0061":2}'); // throws SafetensorsError (duplicate)
 * ```
 */
export function parseJsonStrict(text: string): JsonValue {
  if (typeof text !== "string") throw new TypeError(`parseJsonStrict: text must be a string (got ${text === null ? "null" : typeof text})`);
  let i = 0;
  const fail = (what: string): never => {
    const near = i < text.length ? ` near ${JSON.stringify(text.slice(i, i + 12))}` : " at the end";
    throw new SafetensorsError("invalid_json", `header is not valid JSON: ${what} at character ${i}${near}`);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const hex4 = (): number => {
    const h = text.slice(i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) fail("bad \\u escape");
    i += 4;
    return parseInt(h, 16);
  };
  const string = (): string => {
    i++; // opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail("control character in a string");
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      if (e === "u") {
        const u = hex4();
        if (u >= 0xd800 && u <= 0xdbff) {
          if (text.slice(i, i + 2) !== "\\u") fail("lone surrogate in a \\u escape");
          i += 2;
          const lo = hex4();
          if (lo < 0xdc00 || lo > 0xdfff) fail("lone surrogate in a \\u escape");
          out += String.fromCharCode(u, lo);
        } else if (u >= 0xdc00 && u <= 0xdfff) {
          fail("lone surrogate in a \\u escape");
        } else {
          out += String.fromCharCode(u);
        }
      } else if (e !== undefined && e in ESCAPES) {
        out += ESCAPES[e];
      } else {
        i -= 2;
        fail("bad escape");
      }
      start = i;
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj = new Map<string, JsonValue>();
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a string key");
        const key = string();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        const v = value(depth + 1);
        if (obj.has(key)) throw new SafetensorsError("duplicate", `duplicate key ${JSON.stringify(key)} in a header object`);
        obj.set(key, v);
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return obj;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return arr;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) {
      i += m[0].length;
      return new JsonNumber(m[0]);
    }
    return fail(i >= text.length ? "unexpected end" : "unexpected character");
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail("unexpected content after the JSON value");
  return v;
}
