/** JSON Schema of slipway.yml for editors (`slipway schema`). */
import { z } from 'zod';
import { projectConfigSchema } from './config-schema';

export function projectConfigJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(projectConfigSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'slipway.yml',
  };
}
