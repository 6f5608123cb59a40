// Build the extension for every browser from one source tree:  node build.mjs  (npm run build)
//   dist/chromium/  (Chrome, Chromium, Brave, Edge: service worker, fixed `key` → fixed id)
//   dist/firefox/   (Firefox: background scripts, gecko id)
// Per-browser differences are only in manifests/<browser>.json, merged over manifests/base.json.
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodePng } from "./png.mjs";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
// The in-browser fallback engine (issue 4): wasm-bindgen output of wasm-classifier/build.sh. Without it the
// background gets a stand-in that reports the fallback unavailable.
const wasmDir = join(root, "../target/wasm/web");
const wasmGlue = existsSync(join(wasmDir, "feedwarden_wasm_bg.wasm")) ? join(wasmDir, "feedwarden_wasm.js") : join(root, "src/background/wasm-missing.ts");


// The content script's match patterns come from the adapters' host lists (one place to edit).
const adapters = await build({
  entryPoints: [join(root, "src/adapters/index.ts")],
  bundle: true,
  format: "esm",
  platform: "neutral",
  write: false,
});
const { matchPatterns } = await import(`data:text/javascript;base64,${Buffer.from(adapters.outputFiles[0].text).toString("base64")}`);

const entries = {
  background: "src/background/index.ts",
  content: "src/content/index.ts",
  popup: "src/popup/popup.ts",
  options: "src/options/options.ts",
};

// A tiny PNG icon (a shield-ish green square), drawn here so no binary is committed.
function png(size) {
  return encodePng(size, size, (x, y) => {
    const dx = (x - size / 2) / (size / 2);
    const dy = (y - size / 2) / (size / 2);
    const inside = Math.abs(dx) < 0.8 && dy > -0.8 && dy < 0.9 - Math.abs(dx) * 0.6;
    const eye = Math.abs(dx) < 0.35 && Math.abs(dy) < 0.12;
    return inside ? (eye ? [255, 255, 255, 255] : [26, 127, 55, 255]) : [0, 0, 0, 0];
  });
}

async function buildFor(browser) {
  const out = join(dist, browser);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, join(root, v)])),
    alias: { "feedwarden-wasm": wasmGlue },
    logOverride: { "empty-import-meta": "silent" }, // the glue's default URL is unused: the engine passes its own
    outdir: out,
    bundle: true,
    format: "iife",
    target: browser === "firefox" ? ["firefox128"] : ["chrome120"],
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
  });
  cpSync(join(root, "static"), out, { recursive: true });
  if (existsSync(join(wasmDir, "feedwarden_wasm_bg.wasm"))) cpSync(join(wasmDir, "feedwarden_wasm_bg.wasm"), join(out, "wasm/feedwarden_wasm_bg.wasm"));
  writeFileSync(join(out, "icon-48.png"), png(48));
  writeFileSync(join(out, "icon-128.png"), png(128));
  const base = JSON.parse(readFileSync(join(root, "manifests/base.json"), "utf8"));
  const extra = JSON.parse(readFileSync(join(root, `manifests/${browser}.json`), "utf8"));
  const manifest = { ...base, ...extra };
  manifest.content_scripts = base.content_scripts.map((cs) => ({ ...cs, matches: matchPatterns() }));
  writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return out;
}

for (const b of ["chromium", "firefox"]) console.log(`built ${await buildFor(b)}`);

