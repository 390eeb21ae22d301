/**
 * Format-sniffing state_dict loader: one entry point for the weight files the project reads.
 *
 * Dispatch is on content, never on the file extension:
 * - ZIP magic `PK\x03\x04` → PyTorch zip checkpoint (pth.ts, safe unpickler).
 * - 8-byte little-endian header length n with 2 ≤ n ≤ 10^8 and byte 8 = '{' → safetensors.
 * - First byte 0x08 (protobuf field 1, varint: ONNX `ModelProto.ir_version`) → ONNX. When the graph
 *   has `mask_decoder.*` initializers it is treated as a SAM `SamOnnxModel` export and mapped to the
 *   official `prompt_encoder.*` / `mask_decoder.*` keys (sam-decoder-weights.ts); otherwise the
 *   initializers are returned under their ONNX names, unmapped (anonymous `onnx::*` names included).
 * - Anything else (including legacy non-zip torch pickles and `.npy`) → FormatError.
 *
 * @source PyTorch torch/serialization.py (zip format), safetensors README "Format", ONNX onnx.proto
 */
import { decodeOnnxModel } from '../onnx/proto';
import { samDecoderStateDictFromOnnx, SAM_DECODER_CONFIG } from '../onnx/sam-decoder-weights';
import { FormatError, type DType, type Tensor } from '../tensor';
import { readFileOrThrow } from './fs';
import { loadPth } from './pth';
import { parseSafetensors } from './safetensors';
import { isZip } from './zip';

// TYPES

/** The formats `detectCheckpointFormat` recognises. */
export type CheckpointFormat = 'pth' | 'safetensors' | 'onnx';

// MAIN

/**
 * The checkpoint format of `bytes` by content (see the file header), or `undefined` when unknown.
 *
 * @source PKWARE APPNOTE §4.3.7; safetensors README "Format"; protobuf wire format (tag 0x08)
 * @deviation none
 * @precision exact
 */
export function detectCheckpointFormat(bytes: Uint8Array): CheckpointFormat | undefined {
  if (isZip(bytes)) return 'pth';
  if (bytes.length >= 9) {
    const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
    if (n >= 2n && n <= 100_000_000n && bytes[8] === 0x7b) return 'safetensors';
  }
  if (bytes.length >= 2 && bytes[0] === 0x08) return 'onnx';
  return undefined;
}

/**
 * Parse checkpoint bytes of any supported format into a flat state_dict; unknown or malformed
 * content throws `FormatError` naming `source`.
 *
 * @source see the file header
 * @deviation ONNX files other than SAM decoder exports are returned unmapped
 * @precision exact
 */
export function parseStateDict(bytes: Uint8Array, source: string): Record<string, Tensor<DType>> {
  switch (detectCheckpointFormat(bytes)) {
    case 'pth':
      return loadPth(bytes, source);
    case 'safetensors':
      return parseSafetensors(bytes, source).tensors;
    case 'onnx': {
      const g = decodeOnnxModel(bytes, source);
      if ([...g.initializers.keys()].some((k) => k.startsWith('mask_decoder.'))) return samDecoderStateDictFromOnnx(g, SAM_DECODER_CONFIG, source);
      return Object.fromEntries(g.initializers);
    }
    default:
      throw new FormatError(source, 'unknown checkpoint format (expected a PyTorch zip checkpoint, safetensors or ONNX)');
  }
}

/**
 * Read a checkpoint file (PyTorch zip, safetensors or ONNX) into a flat state_dict; a missing,
 * unreadable, unknown or malformed file throws `FormatError` naming `path`.
 *
 * @source see the file header
 * @deviation ONNX files other than SAM decoder exports are returned unmapped
 * @precision exact
 */
export function loadStateDict(path: string): Record<string, Tensor<DType>> {
  return parseStateDict(readFileOrThrow(path, 'checkpoint file'), path);
}
