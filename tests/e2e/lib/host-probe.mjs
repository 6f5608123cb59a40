// Ask the real host binary, over native messaging on stdio, what it can do — for tests that need a host
// feature that may be newer than the binary that was built.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePng } from "../../../extension/png.mjs";
import { HOST_BIN } from "./env.mjs";

/** A small grey PNG (no text in it). */
function greyPng(size = 32) {
  return encodePng(size, size, () => [0x80, 0x80, 0x80, 0xff]);
}

/**
 * Whether the host answers a post whose image it has not read with `images_pending: true` and then sends a
 * `verdict.update` (started with FEEDWARDEN_IMAGE_BUDGET_MS=0). Resolves to true, or to a sentence saying
 * what it did instead.
 */
export async function hostSendsVerdictUpdates(timeoutMs = 20000) {
  const home = mkdtempSync(join(tmpdir(), "fw-probe-"));
  const host = spawn(HOST_BIN, ["chrome-extension://cegiengkgffkajpkjmdpmbedpaphndmm/"], {
    env: { ...process.env, FEEDWARDEN_HOME: home, FEEDWARDEN_IMAGE_BUDGET_MS: "0" },
    stdio: ["pipe", "pipe", "ignore"],
  });
  const frames = [];
  let buf = Buffer.alloc(0);
  let wake = () => {};
  host.stdout.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32LE(0)) {
      frames.push(JSON.parse(buf.subarray(4, 4 + buf.readUInt32LE(0)).toString("utf8")));
      buf = buf.subarray(4 + buf.readUInt32LE(0));
      wake();
    }
  });
  const send = (m) => {
    const body = Buffer.from(JSON.stringify(m));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(body.length);
    host.stdin.write(Buffer.concat([len, body]));
  };
  const waitFor = async (pred) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const f = frames.find(pred);
      if (f) return f;
      await new Promise((r) => {
        wake = r;
        setTimeout(r, 200);
      });
    }
    return null;
  };
  try {
    send({ type: "hello", request_id: 1, protocols: [1], client: "feedwarden-e2e-probe" });
    const hello = await waitFor((f) => f.request_id === 1);
    if (!hello?.ready) return `the host is not ready (${hello?.error ?? "no hello"})`;
    const image = `data:image/png;base64,${greyPng().toString("base64")}`;
    send({ type: "classify", request_id: 2, image_budget_ms: 0, posts: [{ id: "probe", text: "A grey square", images: [image] }] });
    const reply = await waitFor((f) => f.request_id === 2 && f.type !== "verdict.update");
    if (reply?.type !== "verdicts") return `the host answered classify with ${reply?.type ?? "nothing"} (${reply?.message ?? ""})`;
    if (reply.verdicts[0]?.images_pending !== true) return "the host judged the image inside classify (no images_pending: built before verdict.update)";
    const update = await waitFor((f) => f.type === "verdict.update" && f.request_id === 2);
    return update ? true : "the host announced images_pending but sent no verdict.update";
  } finally {
    host.kill();
    rmSync(home, { recursive: true, force: true });
  }
}
