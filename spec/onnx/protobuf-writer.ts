/**
 * Test oracle: a deliberately naive protobuf writer for the handful of ONNX messages the decoder
 * tests need. It shares no code with src/ (no onnx-proto, no protobufjs): field numbers are written
 * by hand from onnx/onnx.proto, so a decoder bug cannot be mirrored here.
 */

/** Unsigned LEB128 varint of a non-negative integer < 2^53, or a BigInt (two's complement 64-bit). */
function varint(v: number | bigint): number[] {
  let x = typeof v === 'bigint' ? BigInt.asUintN(64, v) : BigInt(v);
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
  return out;
}

/** A message under construction: a flat list of bytes. */
export type Msg = number[];

export function fVarint(field: number, v: number | bigint): Msg {
  return [...varint((field << 3) | 0), ...varint(v)];
}
export function fBytes(field: number, bytes: ArrayLike<number>): Msg {
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...Array.from(bytes)];
}
export function fString(field: number, s: string): Msg {
  return fBytes(field, new TextEncoder().encode(s));
}
export function fFloat32(field: number, v: number): Msg {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return [...varint((field << 3) | 5), ...b];
}
export function packedFloat32(field: number, vs: number[]): Msg {
  const b = new Uint8Array(4 * vs.length);
  const dv = new DataView(b.buffer);
  vs.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return fBytes(field, b);
}
export function packedVarint(field: number, vs: (number | bigint)[]): Msg {
  return fBytes(field, vs.flatMap((v) => varint(v)));
}

// onnx.proto field numbers
export function tensorProto(o: { name: string; dims: number[]; dataType: number; raw?: Uint8Array; floats?: number[]; int64s?: bigint[]; int32s?: number[]; external?: boolean }): Msg {
  return [
    ...packedVarint(1, o.dims),
    ...fVarint(2, o.dataType),
    ...(o.floats ? packedFloat32(4, o.floats) : []),
    ...(o.int32s ? packedVarint(5, o.int32s.map((v) => BigInt(v))) : []),
    ...(o.int64s ? packedVarint(7, o.int64s) : []),
    ...fString(8, o.name),
    ...(o.raw ? fBytes(9, o.raw) : []),
    ...(o.external ? [...fBytes(13, [...fString(1, 'location'), ...fString(2, 'x.bin')]), ...fVarint(14, 1)] : []),
  ];
}
export function attrFloat(name: string, v: number): Msg {
  return [...fString(1, name), ...fFloat32(2, v), ...fVarint(20, 1)];
}
export function attrInt(name: string, v: bigint): Msg {
  return [...fString(1, name), ...fVarint(3, v), ...fVarint(20, 2)];
}
export function attrString(name: string, v: string): Msg {
  return [...fString(1, name), ...fString(4, v), ...fVarint(20, 3)];
}
export function attrTensor(name: string, t: Msg): Msg {
  return [...fString(1, name), ...fBytes(5, t), ...fVarint(20, 4)];
}
export function attrInts(name: string, vs: bigint[]): Msg {
  return [...fString(1, name), ...packedVarint(8, vs), ...fVarint(20, 7)];
}
export function nodeProto(o: { name: string; opType: string; inputs: string[]; outputs: string[]; attrs?: Msg[] }): Msg {
  return [
    ...o.inputs.flatMap((s) => fString(1, s)),
    ...o.outputs.flatMap((s) => fString(2, s)),
    ...fString(3, o.name),
    ...fString(4, o.opType),
    ...(o.attrs ?? []).flatMap((a) => fBytes(5, a)),
  ];
}
export function valueInfo(name: string, dims: (number | string)[]): Msg {
  const dimMsgs = dims.map((d) => (typeof d === 'number' ? fVarint(1, d) : fString(2, d)));
  const shape = dimMsgs.flatMap((d) => fBytes(1, d));
  const tensorType = [...fVarint(1, 1), ...fBytes(2, shape)];
  return [...fString(1, name), ...fBytes(2, fBytes(1, tensorType))];
}
export function modelProto(o: { irVersion: number; opset: number; producer: string; version: string; nodes: Msg[]; inits: Msg[]; inputs: Msg[]; outputs: Msg[] }): Uint8Array {
  const graph = [
    ...o.nodes.flatMap((n) => fBytes(1, n)),
    ...fString(2, 'g'),
    ...o.inits.flatMap((t) => fBytes(5, t)),
    ...o.inputs.flatMap((v) => fBytes(11, v)),
    ...o.outputs.flatMap((v) => fBytes(12, v)),
  ];
  const opset = [...fString(1, ''), ...fVarint(2, o.opset)];
  return Uint8Array.from([
    ...fVarint(1, o.irVersion),
    ...fString(2, o.producer),
    ...fString(3, o.version),
    ...fBytes(7, graph),
    ...fBytes(8, opset),
  ]);
}
