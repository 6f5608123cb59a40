// Stand-in for the WASM engine's glue when it was not built (wasm-classifier/build.sh did not run before the
// extension's build): the fallback then reports itself unavailable and the extension works as before.
const missing = (): never => {
  throw new Error("the in-browser engine is not part of this build (run wasm-classifier/build.sh, then rebuild)");
};
export default async function init(): Promise<unknown> {
  return missing();
}
export const checkPolicy = missing;
export const decide = missing;
export const modelInfo = missing;
export const embed = missing;
export class TinyEngine {
  constructor() {
    missing();
  }
}
