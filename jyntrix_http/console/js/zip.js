// One file out of a zip archive (a ChatGPT export's conversations.json), inflated by the browser's own
// DecompressionStream. Its declared size is checked before anything is inflated, and inflating stops at that
// size, so a small archive cannot balloon into gigabytes in the page.

import { FileProblem } from "./transcripts.js";

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

function endOfDirectory(view, where) {
  // The record is 22 bytes, followed by a comment of at most 65,535.
  for (let at = view.byteLength - 22; at >= Math.max(0, view.byteLength - 22 - 65535); at -= 1) {
    if (view.getUint32(at, true) === END_OF_DIRECTORY) return at;
  }
  throw new FileProblem(`${where}: not a zip archive that can be read (no central directory)`);
}

function entries(bytes, where) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = endOfDirectory(view, where);
  const total = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const found = [];
  const names = new TextDecoder();
  for (let i = 0; i < total; i += 1) {
    if (at + 46 > bytes.byteLength || view.getUint32(at, true) !== DIRECTORY_ENTRY) {
      throw new FileProblem(`${where}: the archive's directory is damaged`);
    }
    const nameLength = view.getUint16(at + 28, true);
    found.push({
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      compressed: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      offset: view.getUint32(at + 42, true),
      name: names.decode(bytes.subarray(at + 46, at + 46 + nameLength)),
    });
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return { view, found };
}

async function inflate(data, size, where) {
  const reader = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  const out = new Uint8Array(size);
  let filled = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (filled + value.length > size) throw new FileProblem(`${where}: inflates past its declared size`);
      out.set(value, filled);
      filled += value.length;
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    if (error instanceof FileProblem) throw error;
    throw new FileProblem(`${where}: the archive is damaged (${error.message})`);
  }
  if (filled !== size) throw new FileProblem(`${where}: inflates to ${filled} bytes, not the ${size} it declares`);
  return out;
}

/** The bytes of the archive's `name` (the shortest path ending in it), at most `maxBytes` of them. */
export async function readZipMember(bytes, name, maxBytes, fileName) {
  try {
    return await member(bytes, name, maxBytes, fileName);
  } catch (error) {
    if (error instanceof RangeError) throw new FileProblem(`${fileName}: the archive is damaged (it points past its end)`);
    throw error;
  }
}

async function member(bytes, name, maxBytes, fileName) {
  const { view, found } = entries(bytes, fileName);
  const matches = found.filter((e) => e.name.split("/").pop() === name).sort((a, b) => a.name.length - b.name.length);
  if (!matches.length) throw new FileProblem(`${fileName}: the archive has no ${name} (is it a ChatGPT data export?)`);
  const entry = matches[0];
  const where = `${fileName}:${entry.name}`;
  if (entry.flags & 1) throw new FileProblem(`${where}: is encrypted`);
  if (entry.size === 0xffffffff || entry.compressed === 0xffffffff) throw new FileProblem(`${where}: is too large to read here (zip64)`);
  if (entry.size > maxBytes) throw new FileProblem(`${where}: inflates to more than ${maxBytes / 2 ** 20} MB`);
  if (view.getUint32(entry.offset, true) !== LOCAL_HEADER) throw new FileProblem(`${where}: the archive is damaged`);
  const start = entry.offset + 30 + view.getUint16(entry.offset + 26, true) + view.getUint16(entry.offset + 28, true);
  const data = bytes.subarray(start, start + entry.compressed);
  if (entry.method === 0) return data;
  if (entry.method === 8) return inflate(data, entry.size, where);
  throw new FileProblem(`${where}: is compressed with method ${entry.method}, which cannot be read here`);
}
