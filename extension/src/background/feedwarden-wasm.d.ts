// Types of the wasm-bindgen glue of wasm-classifier (target/wasm/web/feedwarden_wasm.js), which build.mjs
// aliases as "feedwarden-wasm" (or to wasm-missing.ts when the WASM engine was not built).
declare module "feedwarden-wasm" {
  export default function init(opts?: { module_or_path: string | URL | Request | BufferSource | WebAssembly.Module }): Promise<unknown>;
  export function checkPolicy(source: string): string;
  export function decide(policySource: string, postJson: string, scoresJson: string): string;
  export function modelInfo(): string;
  export function embed(text: string): Float32Array;
  export class TinyEngine {
    constructor(policySource: string);
    judge(postsJson: string): string;
    setFeedback(rowsJson: string): void;
    embedPost(postJson: string): Float32Array;
    readonly policyHash: string;
    free(): void;
  }
}
