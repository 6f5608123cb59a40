// End-to-end, headless Firefox ESR: the core flow (saved x.com page → hidden/labelled tweets with "why")
// with the real host registered by `feedwarden install --browser firefox` in a temporary HOME.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import puppeteer from "puppeteer-core";
import { CLI_BIN, EXT_FIREFOX, FIREFOX, HOST_BIN, skipReason, xPagesReason } from "./lib/env.mjs";
import { E2E_POLICY } from "./lib/policy.mjs";
import { startServer } from "./lib/server.mjs";

const skip = skipReason({ firefox: true }) || xPagesReason();

describe("firefox: extension + native host", { skip }, () => {
  test("saved x.com home: crypto tweets hidden with the rule named, every tweet judged", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "fw-ff-"));
    const dataDir = join(tmp, "data");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "policy.toml"), E2E_POLICY);
    execFileSync(CLI_BIN, ["install", "--browser", "firefox", "--host-path", HOST_BIN], { env: { ...process.env, HOME: tmp } });
    const server = await startServer();
    const browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: FIREFOX,
      headless: true,
      acceptInsecureCerts: true,
      env: { ...process.env, HOME: tmp, FEEDWARDEN_HOME: dataDir, MOZ_HEADLESS: "1" },
      extraPrefsFirefox: {
        "network.proxy.type": 1,
        "network.proxy.http": "127.0.0.1",
        "network.proxy.http_port": server.port,
        "network.proxy.ssl": "127.0.0.1",
        "network.proxy.ssl_port": server.port,
        "network.proxy.allow_hijacking_localhost": false,
        "extensions.manifestV3.enabled": true,
      },
    });
    try {
      await browser.installExtension(EXT_FIREFOX);
      const page = await browser.newPage();
      await page.goto("https://x.com/home");
      await page.waitForFunction(
        () => {
          const posts = [...document.querySelectorAll('article[data-testid="tweet"]')];
          return posts.length > 0 && posts.every((p) => ["show", "hide", "blur", "label"].includes(p.getAttribute("data-fw-state")));
        },
        { timeout: 30000 },
      );
      const hidden = await page.evaluate(() =>
        [...document.querySelectorAll('article[data-fw-state="hide"]')].map((a) => a.querySelector("feedwarden-ui").shadowRoot.querySelector('[data-fw="stub-rule"]').textContent),
      );
      assert.ok(hidden.length >= 3, `crypto tweets hidden: ${hidden.length}`);
      assert.ok(hidden.every((t) => /crypto/.test(t)));
      await page.screenshot({ path: join(tmp, "ff.png") });
    } finally {
      await browser.close();
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
