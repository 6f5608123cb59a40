// Where things are, and whether this machine can run the end-to-end tests. Missing shared data skips
// (it lives beside the repo, ../shared/data); a missing browser, host binary, model or extension build
// fails under FEEDWARDEN_REQUIRE_MODELS=1 (CI) and skips otherwise.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const E2E = dirname(dirname(fileURLToPath(import.meta.url)));
export const ROOT = resolve(E2E, "../..");
export const HOST_BIN = process.env.FEEDWARDEN_HOST_BIN ?? join(ROOT, "target/release/feedwarden-host");
export const CLI_BIN = process.env.FEEDWARDEN_CLI_BIN ?? join(ROOT, "target/release/feedwarden");
// FEEDWARDEN_EXT_DIST: another build of the extension (e.g. an older one, to compare speed with bench.mjs).
const EXT_DIST = process.env.FEEDWARDEN_EXT_DIST ?? join(ROOT, "extension/dist");
export const EXT_CHROMIUM = join(EXT_DIST, "chromium");
export const EXT_FIREFOX = join(EXT_DIST, "firefox");
export const SHARED_DATA = process.env.FEEDWARDEN_SHARED_DATA ?? resolve(ROOT, "../shared/data");
export const X_HTML = join(SHARED_DATA, "feeds/x-html");
export const FIXTURES = join(E2E, "fixtures");
export const ARTIFACTS = join(E2E, "artifacts");
export const REQUIRE = process.env.FEEDWARDEN_REQUIRE_MODELS === "1";

function firstExisting(paths) {
  return paths.find((p) => p && existsSync(p)) ?? null;
}

export const CHROMIUM = firstExisting([process.env.CHROMIUM_BIN, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]);
export const FIREFOX = firstExisting([process.env.FIREFOX_BIN, "/usr/bin/firefox-esr", "/usr/bin/firefox"]);

/** Problems that stop the suite (each a sentence saying what to run). */
export function missing({ firefox = false } = {}) {
  const out = [];
  if (!existsSync(HOST_BIN) || !existsSync(CLI_BIN)) out.push(`the host is not built (${HOST_BIN}); run ./setup.sh`);
  if (!existsSync(join(ROOT, "models/build/all-minilm-l6-v2"))) out.push("the model is not installed; run ./setup.sh");
  if (!existsSync(join(EXT_CHROMIUM, "manifest.json"))) out.push("the extension is not built; run: cd extension && npm ci && npm run build");
  if (!firefox && !CHROMIUM) out.push("Chromium is not installed; run: apt-get install chromium (or set CHROMIUM_BIN)");
  if (firefox && !FIREFOX) out.push("Firefox is not installed; run: apt-get install firefox-esr (or set FIREFOX_BIN)");
  return out;
}

/** For node:test's `skip` option: a reason string, or false to run. Throws under FEEDWARDEN_REQUIRE_MODELS=1. */
export function skipReason(opts = {}) {
  const m = missing(opts);
  if (m.length) {
    if (REQUIRE) throw new Error(`end-to-end tests cannot run (FEEDWARDEN_REQUIRE_MODELS=1): ${m.join("; ")}`);
    return m.join("; ");
  }
  return false;
}

export function xPagesReason() {
  return existsSync(join(X_HTML, "home-twitter-complete.html"))
    ? false
    : `the saved x.com pages are not at ${X_HTML} (shared data absent; set FEEDWARDEN_SHARED_DATA)`;
}
