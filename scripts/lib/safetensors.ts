/**
 * The safetensors format (https://github.com/huggingface/safetensors): u64 little-endian header length, a JSON
 * header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__}, padded with spaces to 8 bytes, then the
 * raw little-endian tensor bytes. Only float32 is needed here.
 */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export function encodeSafetensors(
  tensors: NamedTensor[],
  metadata: Record<string, string> = { format: 'pt' },
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(`${t.name}: shape [${t.shape.join(', ')}] does not hold ${t.data.length} values`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array): {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + n;
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as unknown as Record<string, string>;
      continue;
    }
    if (info.dtype !== 'F32') throw new Error(`${name}: dtype ${info.dtype} not supported (F32 only)`);
    const [b, e] = info.data_offsets;
    // Copy (a Buffer's slice is a view into a shared pool), so that the Float32Array is aligned and owned.
    const data = new Float32Array(Uint8Array.from(bytes.subarray(base + b, base + e)).buffer);
    tensors.set(name, { name, shape: info.shape, data });
  }
  return { tensors, metadata };
}
