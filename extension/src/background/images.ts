// Downsize images before they are sent to the host: the long side to at most 512 px, JPEG, as a data URL.
// Keeps requests small (the host's replies are capped at 1 MB by the browser, requests at 8 MiB by the host)
// and saves the host decoding time. Runs in the background (service worker or Firefox background page),
// where cross-origin fetches are allowed by host_permissions and OffscreenCanvas exists.

export const MAX_SIDE = 512;

export async function downsizeImage(url: string, maxSide = MAX_SIDE, quality = 0.8): Promise<string> {
  const res = await fetch(url, { credentials: "omit" });
  if (!res.ok) throw new Error(`image ${url}: HTTP ${res.status}`);
  const bitmap = await createImageBitmap(await res.blob());
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

/** True when the host says it has a loaded model that judges images (OCR or NSFW; `provider: null` means
 * the model is not installed). Otherwise images are not sent and the text decides. */
export function hostJudgesImages(models: { kind: string; provider?: string | null }[] | undefined): boolean {
  return !!models?.some((m) => /^(ocr|nsfw|image)/i.test(m.kind) && m.provider !== null);
}
