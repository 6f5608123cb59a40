// Downsize images before they are sent to the host: the long side to at most 512 px, JPEG, as a data URL.
// Keeps requests small (the host's replies are capped at 1 MB by the browser, requests at 8 MiB by the host)
// and saves the host decoding time. Runs in the background (service worker or Firefox background page),
// where cross-origin fetches are allowed by host_permissions and OffscreenCanvas exists.
// Only what image-urls.ts allows for the post's site is fetched (public hosts, the site's own media hosts),
// without credentials or referrer, without following redirects (a public URL must not bounce the request to
// a private address), images only, and bounded in size.
import { imageUrlRefusal } from "./image-urls";

export const MAX_SIDE = 512;

/** Larger downloads are refused (the host would refuse such an image anyway). */
export const MAX_IMAGE_BYTES = 16 * 1024 * 1024;

/** Fetch `url` for a post on `site` (the page's host name, from the browser) and return it downsized as a
 * JPEG data URL. A URL the image policy refuses is rejected without any request. */
export async function downsizeImage(url: string, site: string, maxSide = MAX_SIDE, quality = 0.8): Promise<string> {
  const refusal = imageUrlRefusal(url, site);
  if (refusal) throw new Error(`image not fetched: ${refusal}`);
  const res = await fetch(url, { credentials: "omit", redirect: "error", referrerPolicy: "no-referrer" });
  if (!res.ok) throw new Error(`image ${url}: HTTP ${res.status}`);
  const type = res.headers.get("content-type") ?? "";
  if (type && !/^image\//i.test(type)) throw new Error(`image ${url}: not an image (${type})`);
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (declared > MAX_IMAGE_BYTES) throw new Error(`image ${url}: ${declared} bytes, over ${MAX_IMAGE_BYTES}`);
  const fetched = await res.blob();
  if (fetched.size > MAX_IMAGE_BYTES) throw new Error(`image ${url}: ${fetched.size} bytes, over ${MAX_IMAGE_BYTES}`);
  const bitmap = await createImageBitmap(fetched);
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2d context");
  ctx.drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
  const blob = await canvas.convertToBlob({ type: "image/jpeg", quality });
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:image/jpeg;base64,${btoa(bin)}`;
}

/** True when the host says it looks at images (`hello.accepts.images`: an image model is loaded, or CLIP /
 * the VLM is there for the policy's image rules). A host too old to say is asked through its model list (a
 * loaded OCR or NSFW model; `provider: null` means not installed). Otherwise images are not sent and the
 * text decides. */
export function hostJudgesImages(
  hello: { accepts?: { images: boolean }; models?: { kind: string; provider?: string | null }[] } | null | undefined,
): boolean {
  if (!hello) return false;
  if (hello.accepts) return hello.accepts.images;
  return !!hello.models?.some((m) => /^(ocr|nsfw|image)/i.test(m.kind) && m.provider !== null);
}
