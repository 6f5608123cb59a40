// The reader's settings (extension/src/shared/settings.ts, bundled with esbuild) against a fake
// chrome.storage.local: defaults, what is kept, what is refused, and that saving one setting keeps the others
// (the fallback switch was once dropped by every save). Needs no browser, host or model.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { importExtensionModule } from "./lib/bundle.mjs";
import { installFakeChromeStorage } from "./lib/fake-storage.mjs";

const stored = installFakeChromeStorage();

let settings;
before(async () => {
  settings = await importExtensionModule("src/shared/settings.ts");
});

test("defaults: the fallback is on, nothing else is surprising", () => {
  const s = settings.normalizeSettings(undefined);
  assert.equal(s.fallback, true);
  assert.equal(s.paused, false);
  assert.equal(s.imageBudgetMs, null);
});

test("stored values are kept; malformed ones fall back to the defaults", () => {
  assert.equal(settings.normalizeSettings({ fallback: false }).fallback, false);
  assert.equal(settings.normalizeSettings({ fallback: "no" }).fallback, true);
  assert.equal(settings.normalizeSettings({ pendingTimeoutMs: 5 }).pendingTimeoutMs, settings.DEFAULT_SETTINGS.pendingTimeoutMs);
  assert.equal(settings.normalizeSettings({ imageBudgetMs: 1.5 }).imageBudgetMs, null);
  assert.equal(settings.normalizeSettings({ sites: { x: false, nope: false } }).sites.x, false);
});

test("saving one setting keeps the others, the fallback switch included", async () => {
  await settings.saveSettings({ fallback: false });
  await settings.saveSettings({ pendingStyle: "dimmed" });
  await settings.saveSettings({ sites: { reddit: false } });
  const s = await settings.loadSettings();
  assert.equal(s.fallback, false);
  assert.equal(s.pendingStyle, "dimmed");
  assert.equal(s.sites.reddit, false);
  assert.equal(s.sites.x, true);
  assert.equal(stored.settings.fallback, false, "what the background's fallback engine reads");
});
