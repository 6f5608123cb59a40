// Draw text into a PNG with the browser's own canvas (no image committed, nothing downloaded): black,
// bold sans-serif on white, one line per entry, large enough for the host's OCR to read.
export async function textImagePng(page, lines, { width = 1000, lineHeight = 64, font = "bold 44px sans-serif" } = {}) {
  const b64 = await page.evaluate(
    ({ lines, width, lineHeight, font }) => {
      const c = document.createElement("canvas");
      c.width = width;
      c.height = lineHeight * lines.length + 40;
      const g = c.getContext("2d");
      g.fillStyle = "#ffffff";
      g.fillRect(0, 0, c.width, c.height);
      g.fillStyle = "#000000";
      g.font = font;
      g.textBaseline = "top";
      lines.forEach((l, i) => g.fillText(l, 20, 20 + i * lineHeight));
      return c.toDataURL("image/png").split(",")[1];
    },
    { lines, width, lineHeight, font },
  );
  return Buffer.from(b64, "base64");
}
