// Launch a real headless Chromium with the built extension, the real native host registered in the
// profile's NativeMessagingHosts folder by `feedwarden install`, and the local fixture proxy.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CLI_BIN, EXT_CHROMIUM, HOST_BIN } from "./env.mjs";

export const EXTENSION_ID = "cegiengkgffkajpkjmdpmbedpaphndmm";

export function makeDataDir(policy) {
  const tmp = mkdtempSync(join(tmpdir(), "fw-e2e-"));
  const dataDir = join(tmp, "data");
  mkdirSync(dataDir, { recursive: true });
  if (policy) writeFileSync(join(dataDir, "policy.toml"), policy);
  return { tmp, dataDir };
}

/** Register the host for a Chromium profile with the real installer. The installer records the registration
 * in the data folder: the test's (`dataDir`, by default the one launchChromium makes beside the profile),
 * never the user's. */
export function installHost(userDataDir, { hostPath = HOST_BIN, dataDir = join(dirname(userDataDir), "data") } = {}) {
  return execFileSync(CLI_BIN, ["install", "--browser", "chromium", "--user-data-dir", userDataDir, "--host-path", hostPath], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FEEDWARDEN_HOME: dataDir },
  });
}

/** `hostEnv`: extra environment for the browser, which the native host it starts inherits
 * (e.g. FEEDWARDEN_IMAGE_BUDGET_MS). */
/** A service worker caught right as it starts can evaluate before Chromium has bound the extension APIs to its
 * global (`chrome is not defined`): wait until `chrome.storage` is there. */
async function extensionApisReady(sw, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ready = await sw.evaluate(() => typeof chrome !== "undefined" && !!chrome.storage?.local).catch(() => false);
    if (ready) return;
    if (Date.now() > end) throw new Error(`the extension's service worker had no chrome.storage after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function launchChromium({ server, policy, settings = {}, registerHost = true, hostPath, hostEnv = {} } = {}) {
  const { tmp, dataDir } = makeDataDir(policy);
  const userDataDir = join(tmp, "profile");
  mkdirSync(userDataDir, { recursive: true });
  if (registerHost) installHost(userDataDir, { hostPath, dataDir });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: false,
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      // The fixture proxy's certificate is self-signed: ignoreHTTPSErrors covers pages, this flag also the
      // extension's service worker (it fetches images to downsize them).
      "--ignore-certificate-errors",
      `--disable-extensions-except=${EXT_CHROMIUM}`,
      `--load-extension=${EXT_CHROMIUM}`,
    ],
    ignoreDefaultArgs: ["--disable-extensions"],
    ignoreHTTPSErrors: true,
    proxy: { server: server.proxy, bypass: "<-loopback>" },
    env: { ...process.env, ...hostEnv, FEEDWARDEN_HOME: dataDir },
    viewport: { width: 1100, height: 1400 },
  });
  let sw = context.serviceWorkers().find((w) => w.url().includes(EXTENSION_ID));
  if (!sw) sw = await context.waitForEvent("serviceworker", { predicate: (w) => w.url().includes(EXTENSION_ID), timeout: 15000 });
  await extensionApisReady(sw);
  await sw.evaluate((s) => chrome.storage.local.set({ settings: { metrics: true, ...s } }), settings);
  return {
    context,
    sw,
    tmp,
    dataDir,
    userDataDir,
    async hostStatus() {
      return sw.evaluate(async () => (await chrome.storage.session.get("hostStatus")).hostStatus ?? null);
    },
    async waitForHost(state = "connected", timeoutMs = 20000) {
      const end = Date.now() + timeoutMs;
      let st = null;
      while (Date.now() < end) {
        st = await this.hostStatus();
        if (st?.state === state) return st;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`host status is ${JSON.stringify(st)} after ${timeoutMs} ms, expected ${state}`);
    },
    async close() {
      // Bounded: if the browser process is already gone, Playwright's close can wait on a pipe that will never
      // answer, and a promise nothing keeps alive ends the test run with "Promise resolution is still pending".
      let timer;
      const limit = new Promise((r) => (timer = setTimeout(r, 20000)));
      await Promise.race([context.close().catch(() => {}), limit]);
      clearTimeout(timer);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Wait until every post on the page has left the pending state (with `verdicts`: until every post has its
 * verdict, also those shown after the pending timeout and judged late); returns [{ state, text }].
 * Polls with page.evaluate: waitForFunction evaluates a string, which pages enforcing Trusted Types (YouTube)
 * refuse. */
export async function settled(page, selector, timeoutMs = 15000, { verdicts = false } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await page.evaluate(
      ({ sel, verdicts }) => {
        const posts = [...document.querySelectorAll(sel)];
        const done = (s) => (verdicts ? ["show", "hide", "blur", "label"].includes(s) : !!s && s !== "pending");
        const states = posts.map((p) => ({ state: p.getAttribute("data-fw-state"), text: (p.textContent || "").replace(/\s+/g, " ").trim().slice(0, 300) }));
        return { ok: posts.length > 0 && states.every((s) => done(s.state)), states };
      },
      { sel: selector, verdicts },
    );
    if (r.ok) return r.states;
    if (Date.now() > end) throw new Error(`posts ${selector} not settled after ${timeoutMs} ms: ${JSON.stringify(r.states.map((s) => s.state))}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
