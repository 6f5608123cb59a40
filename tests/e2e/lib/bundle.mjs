// Import one of the extension's TypeScript modules into a Node test: bundled with the extension's own esbuild
// (no file written), then imported from a data: URL. Set any globals the module reads when it loads (e.g. a
// fake `chrome`) before calling.
import { createRequire } from "node:module";
import { join } from "node:path";
import { ROOT } from "./env.mjs";

const require = createRequire(join(ROOT, "extension/package.json"));

/** The module at `extension/<relPath>`, e.g. `src/shared/settings.ts`. The WebAssembly glue is replaced by the
 *  extension's own stand-in for a build without it (`src/background/wasm-missing.ts`). */
export async function importExtensionModule(relPath) {
  const out = await require("esbuild").build({
    entryPoints: [join(ROOT, "extension", relPath)],
    alias: { "feedwarden-wasm": join(ROOT, "extension/src/background/wasm-missing.ts") },
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
  });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString("base64")}`);
}

/** The module at `extension/<relPath>` as a classic script for a web page: its exports become
 * `window[globalName]` (e.g. the adapters, to run their extractors on a real saved page). */
export async function extensionModuleForPage(relPath, globalName) {
  const out = await require("esbuild").build({
    entryPoints: [join(ROOT, "extension", relPath)],
    bundle: true,
    format: "iife",
    globalName,
    target: ["chrome120", "firefox128"],
    write: false,
  });
  return out.outputFiles[0].text;
}
