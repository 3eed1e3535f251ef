/**
 * `text.template` brick (cpu): fills `{field}` placeholders of the `template` option with the text
 * inputs of the same names (each placeholder is an input port). No escaping or expressions.
 */
import type { Brick, PortSpec, PortValue, PortValues } from '../../bricks/brick.js';
import { templateFields, type BrickContext } from '../registry.js';
import { takePort } from './ports.js';

/** A prompt template. */
export class TextTemplateBrick implements Brick {
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[] = [{ name: 'text', kind: 'text' }];
  private constructor(readonly name: string, readonly device: string, private readonly template: string) {
    this.inputs = templateFields(template).map((n) => ({ name: n, kind: 'text' as const }));
  }

  /** Creates the brick from option `template` (validated by the registry). */
  static async create(ctx: BrickContext): Promise<TextTemplateBrick> {
    return new TextTemplateBrick(ctx.name, ctx.device, ctx.options.template as string);
  }

  /**
   * @returns `text`: the template with every `{field}` replaced by input `field`'s text.
   * @throws RequestError for a missing/mistyped port.
   */
  async run(inputs: PortValues): Promise<Record<string, PortValue>> {
    const vals = new Map(this.inputs.map((p) => [p.name, takePort(this.name, inputs, p.name, 'text').text]));
    const text = this.template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, k: string) => vals.get(k) ?? m);
    return { text: { kind: 'text', text } };
  }

  dispose(): void {}
}
