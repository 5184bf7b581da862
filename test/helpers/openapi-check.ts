/**
 * A small OpenAPI 3 schema check (the subset Ford's "FCON Query service"
 * description uses: $ref, type, enum, properties, required, closed objects,
 * items, string lengths and patterns, integer bounds, date-time). Returns
 * every mismatch as `path: problem`, none when the value fits.
 */
type Schema = Record<string, unknown>;

const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

export function checkAgainst(doc: { components: { schemas: Record<string, Schema> } }, schemaName: string, value: unknown): string[] {
  const problems: string[] = [];
  const resolve = (s: Schema): Schema => {
    let out = s;
    while (typeof out.$ref === 'string') out = doc.components.schemas[out.$ref.split('/').pop() as string] ?? {};
    return out;
  };
  const walk = (v: unknown, raw: Schema, at: string): void => {
    const s = resolve(raw);
    const type = s.type as string | undefined;
    if (Array.isArray(s.enum) && !s.enum.includes(v)) problems.push(`${at}: ${JSON.stringify(v)} is not one of ${s.enum.join(', ')}`);
    if (type === 'object' || s.properties) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return void problems.push(`${at}: not an object`);
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const r of (s.required ?? []) as string[]) if (!(r in v)) problems.push(`${at}: missing ${r}`);
      for (const [k, child] of Object.entries(v)) {
        if (props[k]) walk(child, props[k], `${at}.${k}`);
        else if (s.additionalProperties === false && Object.keys(props).length > 0) problems.push(`${at}: unexpected ${k}`);
      }
    } else if (type === 'array') {
      if (!Array.isArray(v)) return void problems.push(`${at}: not an array`);
      if (typeof s.maxItems === 'number' && v.length > s.maxItems) problems.push(`${at}: more than ${s.maxItems} items`);
      v.forEach((item, i) => walk(item, (s.items ?? {}) as Schema, `${at}[${i}]`));
    } else if (type === 'string') {
      if (typeof v !== 'string') return void problems.push(`${at}: ${JSON.stringify(v)} is not a string`);
      if (typeof s.maxLength === 'number' && v.length > s.maxLength) problems.push(`${at}: longer than ${s.maxLength}`);
      if (typeof s.minLength === 'number' && v.length < s.minLength) problems.push(`${at}: shorter than ${s.minLength}`);
      if (typeof s.pattern === 'string' && !new RegExp(s.pattern).test(v)) problems.push(`${at}: ${JSON.stringify(v)} does not match ${s.pattern}`);
      if (s.format === 'date-time' && !DATE_TIME.test(v)) problems.push(`${at}: ${JSON.stringify(v)} is not a date-time`);
    } else if (type === 'integer') {
      if (!Number.isInteger(v)) return void problems.push(`${at}: ${JSON.stringify(v)} is not an integer`);
      if (typeof s.minimum === 'number' && (v as number) < s.minimum) problems.push(`${at}: below ${s.minimum}`);
      if (typeof s.maximum === 'number' && (v as number) > s.maximum) problems.push(`${at}: above ${s.maximum}`);
    } else if (type === 'number') {
      if (typeof v !== 'number') problems.push(`${at}: ${JSON.stringify(v)} is not a number`);
    } else if (type === 'boolean') {
      if (typeof v !== 'boolean') problems.push(`${at}: ${JSON.stringify(v)} is not a boolean`);
    }
  };
  walk(value, { $ref: `#/components/schemas/${schemaName}` }, schemaName);
  return problems;
}
