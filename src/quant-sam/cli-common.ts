/**
 * Shared pieces of `ahcq quantize`, `ahcq eval` and `npm run results`: resolving `--model` into a
 * QuantTarget and the method names / ablation flags of the CLI.
 */
import { specRequire } from '../tensor';
import { loadSamModel } from '../sam/sam-model';
import { SAM_DECODER_MODEL_CONFIG } from '../sam/sam-decoder-types';
import { methodPreset, type AblationSwitches, type MethodName, type MethodPreset } from '../quant/presets';
import type { QuantTarget } from './model';

// CONSTANTS

/** CLI method names → preset names. */
export const CLI_METHODS: Readonly<Record<string, MethodName>> = { rtn: 'RTN', ptq4sam: 'PTQ4SAM', ahcptq: 'AHCPTQ', ahcq: 'AHCQ-SAM' };

// MAIN

/**
 * Load `mobilesam`, `ENC.onnx,DEC.onnx` or an official checkpoint as a quantization target.
 * @source src/sam/sam-model.ts#loadSamModel
 * @deviation none
 * @precision exact
 */
export function loadTarget(spec: string): QuantTarget {
  const m = loadSamModel(spec);
  const arch = m.encoder.kind === 'tiny-vit' ? { kind: 'tiny-vit' as const, cfg: m.encoder.cfg } : { kind: 'vit' as const, cfg: m.encoder.cfg };
  return { name: m.name, arch, encoderWeights: m.encoder.weights, decoderWeights: m.decoder, decoderCfg: SAM_DECODER_MODEL_CONFIG, imageSize: 1024 };
}

/**
 * The preset of a CLI method name with ablation flags (`--no-big` …, `--reference-compat`).
 * @source src/quant/presets.ts#methodPreset
 * @deviation calibration-only: reconstruction is always off (Project decision 3)
 * @precision exact
 */
export function cliPreset(method: string, bits: number, flags: Readonly<Record<string, boolean>>): MethodPreset {
  const name = CLI_METHODS[method];
  specRequire(name !== undefined, { fn: 'ahcq quantize', what: '--method', rule: `be one of ${Object.keys(CLI_METHODS).join(', ')}`, got: method });
  const ab: AblationSwitches = {
    reconstruction: false,
    ...(flags['no-big'] ? { big: false } : {}),
    ...(flags['no-acnr'] ? { acnr: false } : {}),
    ...(flags['no-hluq'] ? { hluq: false } : {}),
    ...(flags['no-cag'] ? { cag: false } : {}),
    ...(flags['no-lnq'] ? { softmax: 'uniform' as const } : {}),
    ...(flags['reference-compat'] ? { referenceCompat: true } : {}),
  };
  return methodPreset(name, bits, ab);
}
