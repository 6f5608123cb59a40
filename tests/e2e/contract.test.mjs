// The extension's protocol types must not drift from docs/protocol.md. The types are generated from the Rust
// protocol types into extension/src/shared/protocol.gen.ts (a Rust test fails when that file is stale); this
// test checks the human description against the generated file: every request type, every error code and
// every JSON field the doc's examples show. Needs no browser and no model.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "./lib/env.mjs";

const doc = readFileSync(join(ROOT, "docs/protocol.md"), "utf8");
const generated = readFileSync(join(ROOT, "extension/src/shared/protocol.gen.ts"), "utf8");
// What the extension imports: protocol.ts re-exports the generated types.
const ts = readFileSync(join(ROOT, "extension/src/shared/protocol.ts"), "utf8") + generated;

test("protocol.ts re-exports the generated types", () => {
  assert.match(ts, /export \* from "\.\/protocol\.gen"/);
});

test("every request type in docs/protocol.md is in the extension's HostRequest", () => {
  const types = [...doc.matchAll(/^### `([a-z.]+)`/gm)].map((m) => m[1]);
  assert.ok(types.length >= 7, `found ${types}`);
  for (const t of types) assert.ok(ts.includes(`"type": "${t}"`), `request type ${t} missing from protocol.gen.ts`);
});

test("every error code in docs/protocol.md is in the extension's ErrorCode", () => {
  const errors = doc.slice(doc.indexOf("## Errors"));
  const codes = [...errors.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
  assert.ok(codes.length >= 12, `found ${codes}`);
  for (const c of codes) assert.ok(ts.includes(`"${c}"`), `error code ${c} missing from protocol.gen.ts`);
});

/** `text` without the objects that follow `"key": ` for map-valued fields (their keys are ids, not fields). */
function withoutMaps(text, keys) {
  let out = text;
  for (const key of keys) {
    let at;
    while ((at = out.indexOf(`"${key}": {`)) >= 0) {
      let i = out.indexOf("{", at);
      let depth = 0;
      for (; i < out.length; i++) {
        if (out[i] === "{") depth++;
        else if (out[i] === "}" && --depth === 0) break;
      }
      out = out.slice(0, at) + `"${key}": MAP` + out.slice(i + 1);
    }
  }
  return out;
}

test("every JSON field the doc's examples show is a field of a generated type", () => {
  // scores, sub_labels and image_scores map ids (categories, techniques, rules) to numbers.
  const fields = new Set(
    [...withoutMaps(doc, ["scores", "sub_labels", "image_scores"]).matchAll(/(?:[{,`]|^)\s*"([a-z_0-9]+)":/gm)].map((m) => m[1]),
  );
  for (const f of ["image_scores", "clip", "images_pending", "description", "cached", "text_truncated"]) {
    assert.ok(fields.has(f), `the doc no longer shows "${f}": update this test`);
  }
  for (const f of fields) {
    assert.ok(
      f === "type" || new RegExp(`\\b${f}\\??: `).test(generated),
      `"${f}" (docs/protocol.md) is not a field of any type in protocol.gen.ts: add it to the Rust protocol types`,
    );
  }
});
