/**
 * Checks a server's answers against its OpenAPI document's schemas (JSON
 * Schema 2020-12, formats too), for the tests that read `/openapi.json`.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

type Schema = Record<string, unknown>;

/** A validator over `components` (the document's): says what is wrong with `data` against `schema`, if anything. */
export function answerValidator(components: Record<string, unknown>): (schema: Schema, data: unknown) => string | undefined {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // ajv-formats is CommonJS: its plugin is the default export of its module object.
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'openapi.json', components });
  return (schema, data) => {
    const check = ajv.compile(rebase(schema));
    return check(data) ? undefined : ajv.errorsText(check.errors);
  };
}

/** Points a schema's `#/components/...` references into the document added as `openapi.json`. */
function rebase(schema: Schema): Schema {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/')) as Schema;
}
