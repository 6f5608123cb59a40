// The fallback engine's copy of the reader's policy (extension/src/background/fallback-engine.ts, bundled
// with esbuild) against a fake host and a fake chrome.storage.local: it copies the policy the host runs, and
// keeps its last good copy when the host reports that the policy file cannot load (the host then sends the
// broken file's own text for the editor while the last good policy runs). Needs no browser, host or model.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { importExtensionModule } from "./lib/bundle.mjs";
import { installFakeChromeStorage } from "./lib/fake-storage.mjs";

const stored = installFakeChromeStorage();

let FallbackEngine;
before(async () => {
  ({ FallbackEngine } = await importExtensionModule("src/background/fallback-engine.ts"));
});

/** A connected host that answers `policy.get` with `reply`. */
function host(reply) {
  return {
    status: () => ({ state: "connected" }),
    onStatusChange: () => {},
    request: async () => reply,
  };
}

const policyReply = (source, codes) => ({
  type: "policy",
  applied: true,
  source,
  name: "p",
  hash: "h",
  path: "/data/policy.toml",
  rules: [],
  diagnostics: codes.map((code) => ({ severity: "warning", code, file: null, line: 1, column: 1, rule: null, message: "m" })),
});

test("the policy the host runs is copied; a file the host reports inactive is not", async () => {
  const good = '[policy]\nname = "mine"\nextends = ["feedwarden:defaults"]\n';
  await new FallbackEngine(host(policyReply(good, ["unknown-rule"])), {}).request({ type: "policy.get" });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(stored.fallbackPolicySource, good);
  const broken = "[policy\nname = broken";
  await new FallbackEngine(host(policyReply(broken, ["syntax", "policy-not-active"])), {}).request({ type: "policy.get" });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(stored.fallbackPolicySource, good, "the last good copy stays");
});
