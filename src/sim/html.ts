/** Server-rendered pages: one layout, escaped interpolation, no client framework needed. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Tagged template that escapes every interpolated value unless it is already `SafeHtml`. */
export class SafeHtml {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1];
  });
  return new SafeHtml(out);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.html;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(value);
}

const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f6f9;color:#1a1a1a}
header{background:#00095b;color:#fff;padding:12px 24px;display:flex;flex-wrap:wrap;gap:12px 24px;align-items:center}
header a{color:#fff;text-decoration:none;opacity:.85}header a:hover{opacity:1}
header strong{font-size:1.1em;margin-right:auto}
main{max-width:920px;margin:24px auto;padding:0 16px}
.card{background:#fff;border-radius:8px;padding:20px 24px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin-bottom:16px;overflow-x:auto}
table{border-collapse:collapse;width:100%}th{white-space:nowrap}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e6ea;vertical-align:top}
.sensitive{color:#a4262c;font-weight:600}.muted{color:#666;font-size:.9em}
.ok{color:#107c10}.denied,.failed,.rate-limited{color:#a4262c}
button{background:#00095b;color:#fff;border:0;border-radius:4px;padding:8px 16px;cursor:pointer;font-size:1em}
button.secondary{background:#fff;color:#00095b;border:1px solid #00095b}
button.danger{background:#a4262c}
label{display:block;margin:8px 0}input[type=text],input[type=email],input[type=password]{padding:6px;width:100%;max-width:360px;box-sizing:border-box}
.scope{padding:10px 0;border-bottom:1px solid #eee}.scope label{margin:0}
.error{background:#fde7e9;color:#a4262c;padding:10px;border-radius:4px}
code{background:#eef;padding:1px 4px;border-radius:3px}
`;

export function page(title: string, body: SafeHtml, options: { nav?: boolean } = {}): string {
  const nav = options.nav
    ? html`<a href="/owner/apps">Connected apps</a><a href="/owner/audit">Audit log</a><a href="/owner/alerts">Alerts</a><form method="post" action="/owner/logout" style="margin:0"><button class="secondary" type="submit">Sign out</button></form>`
    : html``;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · Ford simulator</title><style>${STYLE}</style></head>
<body><header><strong>Ford vehicle API simulator</strong>${nav.html}</header><main>${body.html}</main></body></html>`;
}
