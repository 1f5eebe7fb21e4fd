// A photo from the phone's camera made small enough to send over a village's network:
// at most 1600 px on its longer side, as a JPEG, before it is queued or uploaded.

/** The largest side of a photo as uploaded, and the server's limit on a photo. */
export const MAX_SIDE = 1600;
export const MAX_BYTES = 10 * 1024 * 1024;

/** `file` (an image) as a JPEG at most MAX_SIDE px on its longer side. */
export async function shrink(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((ok, fail) => canvas.toBlob((b) => (b ? ok(b) : fail(new Error('encode'))), 'image/jpeg', 0.85));
}

