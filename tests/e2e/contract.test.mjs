// The extension's protocol types must not drift from docs/protocol.md (which a Rust test keeps in step
// with native-host/src/protocol.rs): every request type and error code named in the doc appears in
// extension/src/shared/protocol.ts. Needs no browser and no model.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "./lib/env.mjs";

const doc = readFileSync(join(ROOT, "docs/protocol.md"), "utf8");
const ts = readFileSync(join(ROOT, "extension/src/shared/protocol.ts"), "utf8");

test("every request type in docs/protocol.md is in the extension's HostRequest", () => {
  const types = [...doc.matchAll(/^### `([a-z.]+)`/gm)].map((m) => m[1]);
  assert.ok(types.length >= 7, `found ${types}`);
  for (const t of types) assert.ok(ts.includes(`type: "${t}"`), `request type ${t} missing from protocol.ts`);
});

test("every error code in docs/protocol.md is in the extension's ErrorCode", () => {
  const errors = doc.slice(doc.indexOf("## Errors"));
  const codes = [...errors.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
  assert.ok(codes.length >= 12, `found ${codes}`);
  for (const c of codes) assert.ok(ts.includes(`"${c}"`), `error code ${c} missing from protocol.ts`);
});
