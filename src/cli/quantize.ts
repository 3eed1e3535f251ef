/**
 * `synflux quantize --model IN.gguf --out OUT.gguf --type Q8_0|Q4_0|Q4_1|Q4_K_M|Q5_K_M|Q6_K|F16
 * [--allow-requantize] [--json]`: writes a GGUF with llama-quantize's per-tensor types and ggml's
 * reference block bytes ({@link quantizeModel}). Progress lines go to stderr; `--json` prints the
 * per-tensor summary on stdout.
 */
import { RequestError } from '../core/errors.js';
import { typeName } from '../core/ggml-type.js';
import { quantizeModel } from '../quant/quantize-model.js';
import { isQuantFtypeName, QUANT_FTYPES } from '../quant/tensor-type.js';
import { formatBytes, log, type CliIO } from './io.js';

/** Parsed flags of `synflux quantize`. */
export interface QuantizeCliOptions {
  model?: string;
  out?: string;
  type?: string;
  allowRequantize?: boolean;
  json?: boolean;
}

/**
 * Runs the command.
 * @throws RequestError `QUANT_BAD_TYPE` / `QUANT_MISSING_ARG` for bad flags, plus everything
 *   {@link quantizeModel} throws.
 */
export async function quantizeCommand(opts: QuantizeCliOptions, io: CliIO): Promise<void> {
  if (!opts.model) throw new RequestError('QUANT_MISSING_ARG', '--model IN.gguf is required');
  if (!opts.out) throw new RequestError('QUANT_MISSING_ARG', '--out OUT.gguf is required');
  const type = (opts.type ?? '').toUpperCase();
  if (!isQuantFtypeName(type)) {
    throw new RequestError('QUANT_BAD_TYPE', `--type must be one of ${Object.keys(QUANT_FTYPES).join(', ')} (got '${opts.type ?? ''}')`);
  }
  const t0 = performance.now();
  const res = quantizeModel(opts.model, opts.out, type, {
    allowRequantize: opts.allowRequantize === true,
    onTensor: (t, i, n) => {
      if (opts.json) return;
      log(io, `[${i + 1}/${n}] ${t.name} [${t.dims.join(', ')}] ${typeName(t.fromType)} -> ${typeName(t.toType)} ${formatBytes(t.fromBytes)} -> ${formatBytes(t.toBytes)}`);
    },
  });
  const ms = performance.now() - t0;
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({
      out: opts.out, type, bytes_in: res.bytesIn, bytes_out: res.bytesOut, ms: Math.round(ms),
      tensors: res.tensors.map((t) => ({ name: t.name, dims: t.dims, from: typeName(t.fromType), to: typeName(t.toType), bytes: t.toBytes })),
    })}\n`);
  } else {
    log(io, `wrote ${opts.out}: ${formatBytes(res.bytesIn)} -> ${formatBytes(res.bytesOut)} of tensors in ${(ms / 1000).toFixed(1)} s`);
  }
}
