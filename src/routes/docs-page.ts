// GET /v1/docs: the OpenAPI document rendered as one self-contained HTML page (no scripts, no external resources).

/** The parts of an OpenAPI 3.1 document the page reads; everything else is ignored. */
interface Doc {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation | undefined> | undefined>;
  components?: { schemas?: Record<string, Schema> };
  'x-error-status'?: Record<string, number>;
}

interface Operation {
  summary?: string;
  description?: string;
  operationId?: string;
  tags?: string[];
  'x-scope'?: string;
  'x-error-codes'?: string[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; headers?: Record<string, unknown>; content?: Record<string, { schema?: Schema }> }>;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}

type Schema = Record<string, unknown>;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The markdown our descriptions use: `code` and **bold**, after escaping. */
function inline(text: string): string {
  return esc(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

/** Paragraphs (blank-line separated) and pipe tables. */
function markdown(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const lines = block.trim().split('\n');
      if (!lines[0].startsWith('|')) return `<p>${inline(lines.join(' '))}</p>`;
      const cells = (line: string) =>
        line
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((c) => c.trim());
      const [head, , ...rows] = lines;
      return table(
        cells(head),
        rows.map((r) => cells(r).map(inline)),
        true,
      );
    })
    .join('\n');
}

function table(head: string[], rows: string[][], headIsText = false): string {
  const th = head.map((h) => `<th>${headIsText ? inline(h) : esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function refName(schema: Schema | undefined): string | undefined {
  const ref = schema?.$ref;
  return typeof ref === 'string' ? ref.split('/').pop() : undefined;
}

/** A one-line summary of a JSON schema: type, pattern, enum, bounds, default; refs link to their section. */
function describeSchema(schema: Schema | undefined, doc: Doc): string {
  if (!schema) return '';
  const name = refName(schema);
  if (name) {
    const target = doc.components?.schemas?.[name];
    const inner = target ? describeSchema({ ...target, description: undefined }, doc) : '';
    return `<a href="#schema-${esc(name)}">${esc(name)}</a>${inner ? ` (${inner})` : ''}`;
  }
  const parts: string[] = [];
  const type = schema.type ?? (schema.anyOf ? 'one of' : schema.oneOf ? 'one of' : undefined);
  if (type !== undefined) parts.push(esc(Array.isArray(type) ? type.join(' | ') : String(type)));
  if (Array.isArray(schema.enum)) parts.push(schema.enum.map((v) => `<code>${esc(String(v))}</code>`).join(' | '));
  if (typeof schema.pattern === 'string') parts.push(`pattern <code>${esc(schema.pattern)}</code>`);
  if (schema.minimum !== undefined || schema.maximum !== undefined)
    parts.push(`${esc(String(schema.minimum ?? '…'))}–${esc(String(schema.maximum ?? '…'))}`);
  if (schema.minLength !== undefined || schema.maxLength !== undefined)
    parts.push(`length ${esc(String(schema.minLength ?? 0))}–${esc(String(schema.maxLength ?? '…'))}`);
  if (schema.format !== undefined) parts.push(`format ${esc(String(schema.format))}`);
  if (schema.default !== undefined) parts.push(`default <code>${esc(JSON.stringify(schema.default))}</code>`);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const alts = schema[key];
    if (!Array.isArray(alts)) continue;
    const described = alts.map((a) => describeSchema(a as Schema, doc)).filter((d) => d !== '');
    parts.push(described.join(key === 'allOf' ? ' & ' : ' | '));
  }
  return parts.join(', ');
}

/** [method, path, operation] in document order. */
export function operationsOf(document: object): [string, string, Operation][] {
  const doc = document as Doc;
  const out: [string, string, Operation][] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method];
      if (op) out.push([method.toUpperCase(), path, op]);
    }
  }
  return out;
}

function anchor(method: string, path: string): string {
  return `op-${method.toLowerCase()}-${path.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
}

function operationSection(method: string, path: string, op: Operation, doc: Doc): string {
  const params = (op.parameters ?? []).map((p) => [
    `<code>${esc(p.name)}</code>`,
    esc(p.in),
    p.required ? 'yes' : '',
    describeSchema(p.schema, doc),
    inline(p.description ?? String(p.schema?.description ?? '')),
  ]);
  const body = op.requestBody?.content
    ? Object.entries(op.requestBody.content).map(([type, media]) => [
        `<code>${esc(type)}</code>`,
        describeSchema(media.schema, doc),
        inline(String(media.schema?.description ?? '')),
      ])
    : [];
  const responses = Object.entries(op.responses ?? {}).map(([status, r]) => [
    esc(status),
    inline(r.description ?? ''),
    Object.entries(r.content ?? {})
      .map(([type, media]) => `<code>${esc(type)}</code> ${describeSchema(media.schema, doc)}`)
      .join('<br>'),
    Object.keys(r.headers ?? {})
      .map((h) => `<code>${esc(h)}</code>`)
      .join(', '),
  ]);
  return `<section id="${anchor(method, path)}">
<h3><span class="m m-${esc(method.toLowerCase())}">${esc(method)}</span> <code>${esc(path)}</code></h3>
<p><strong>${inline(op.summary ?? '')}</strong></p>
${markdown(op.description ?? '')}
${params.length ? `<h4>Parameters</h4>${table(['name', 'in', 'required', 'schema', 'description'], params)}` : ''}
${body.length ? `<h4>Request body${op.requestBody?.required ? ' (required)' : ''}</h4>${table(['media type', 'schema', 'description'], body)}` : ''}
<h4>Responses</h4>${table(['status', 'description', 'body', 'headers'], responses)}
</section>`;
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{font:13px ui-monospace,monospace;background:#f5f5f5;padding:0 .2rem}section{border-top:1px solid #ddd;margin-top:1.5rem}
.m{display:inline-block;min-width:4.5rem;font:bold 13px ui-monospace,monospace}.m-get{color:#0a6}.m-post{color:#06c}.m-delete{color:#c22}
pre{background:#f5f5f5;padding:.5rem;overflow:auto;font-size:12px}`;

/** The whole page from an OpenAPI 3.1 document. Every value from the document is HTML-escaped. */
export function renderDocsPage(document: object): string {
  const doc = document as Doc;
  const ops = operationsOf(doc);
  const index = ops.map(([method, path, op]) => [
    `<span class="m m-${esc(method.toLowerCase())}">${esc(method)}</span>`,
    `<a href="#${anchor(method, path)}"><code>${esc(path)}</code></a>`,
    esc(op['x-scope'] ?? ''),
    inline(op.summary ?? ''),
  ]);
  const schemas = Object.entries(doc.components?.schemas ?? {})
    .map(([name, schema]) => `<h3 id="schema-${esc(name)}">${esc(name)}</h3><pre>${esc(JSON.stringify(schema, null, 2))}</pre>`)
    .join('\n');
  const title = `${doc.info.title} ${doc.info.version} — HTTP API`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
<p>The machine-readable form: <a href="openapi.json"><code>openapi.json</code></a> (OpenAPI 3.1).</p>
${markdown(doc.info.description ?? '')}
<h2>Operations</h2>
${table(['method', 'path', 'scope', 'summary'], index)}
${ops.map(([method, path, op]) => operationSection(method, path, op, doc)).join('\n')}
<h2>Schemas</h2>
${schemas}
</body></html>
`;
}
