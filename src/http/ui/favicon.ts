/**
 * `/favicon.ico`: a 16×16 icon (a filled rounded square in the UI's accent
 * colour), built once as an ICO file, so a browser tab shows modelswap and
 * the request log has no 404 for it (llama-swap serves its UI's icon there).
 */

const SIZE = 16;
/** BGRA of the accent colour. */
const ACCENT = [0xd9, 0x6a, 0x2b, 0xff] as const;

/** The ICO bytes: one 32-bit BMP image with an all-opaque AND mask. */
function buildIco(): Uint8Array {
  const pixels = SIZE * SIZE * 4;
  const mask = SIZE * 4; // one bit per pixel, rows padded to 4 bytes
  const bmp = 40 + pixels + mask;
  const out = new DataView(new ArrayBuffer(6 + 16 + bmp));
  // ICONDIR
  out.setUint16(2, 1, true); // type: icon
  out.setUint16(4, 1, true); // one image
  // ICONDIRENTRY
  out.setUint8(6, SIZE);
  out.setUint8(7, SIZE);
  out.setUint16(10, 1, true); // planes
  out.setUint16(12, 32, true); // bits per pixel
  out.setUint32(14, bmp, true);
  out.setUint32(18, 22, true); // offset of the image
  // BITMAPINFOHEADER (height counts the AND mask too)
  let o = 22;
  out.setUint32(o, 40, true);
  out.setInt32(o + 4, SIZE, true);
  out.setInt32(o + 8, SIZE * 2, true);
  out.setUint16(o + 12, 1, true);
  out.setUint16(o + 14, 32, true);
  out.setUint32(o + 20, pixels + mask, true);
  o += 40;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const corner = (x === 0 || x === SIZE - 1) && (y === 0 || y === SIZE - 1);
      for (let i = 0; i < 4; i++) out.setUint8(o + i, corner ? 0 : ACCENT[i]!);
      o += 4;
    }
  }
  return new Uint8Array(out.buffer);
}

/** The icon, built at load. */
export const FAVICON = buildIco();
