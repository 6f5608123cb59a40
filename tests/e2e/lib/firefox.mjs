// Headless Firefox (Debian firefox-esr) driven by puppeteer-core over WebDriver BiDi, with every http(s)
// request sent to the local fixture server (pages are served from 127.0.0.1, never live sites).
import puppeteer from "puppeteer-core";
import { FIREFOX } from "./env.mjs";

/** Launch Firefox proxied through `server`, with `env` and extra `prefs` on top of the common ones. */
export function launchFirefox({ server, env, prefs = {} }) {
  return puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    acceptInsecureCerts: true,
    env: { ...process.env, MOZ_HEADLESS: "1", ...env },
    extraPrefsFirefox: {
      "network.proxy.type": 1,
      "network.proxy.http": "127.0.0.1",
      "network.proxy.http_port": server.port,
      "network.proxy.ssl": "127.0.0.1",
      "network.proxy.ssl_port": server.port,
      "network.proxy.allow_hijacking_localhost": false,
      "extensions.manifestV3.enabled": true,
      ...prefs,
    },
  });
}
