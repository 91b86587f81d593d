/**
 * `GET /dev/api`: the OpenAPI document as a page, for `npm run dev`. One
 * self-contained HTML file that fetches `/openapi.json` and renders it: no
 * CDN (development often runs offline) and no dependency.
 */
import type { Context } from "hono";
import type { AppEnv } from "./env";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>Switchboard API reference</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 1.5rem 4rem; color: #1d2330; }
  h1 { margin-bottom: 0; } .lead { color: #566; margin-top: .25rem; }
  section.op { border: 1px solid #d6dbe4; border-radius: 8px; margin: 1rem 0; padding: .25rem 1rem .75rem; }
  .verb { display: inline-block; min-width: 4.5rem; font-weight: 700; font-family: ui-monospace, monospace; }
  .get { color: #1463c8; } .post { color: #147a3c; } .delete { color: #b3261e; }
  code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
  pre { background: #f4f6f9; padding: .5rem .75rem; border-radius: 6px; overflow: auto; }
  table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #eef; vertical-align: top; }
  .tag { font-size: 12px; background: #eef1f6; border-radius: 4px; padding: 0 .4rem; margin-left: .5rem; }
  .dev { background: #fff3d6; }
  details > summary { cursor: pointer; }
</style>
</head>
<body>
<h1>Switchboard API</h1>
<p class="lead">Rendered from <a href="/openapi.json">/openapi.json</a>.</p>
<div id="out">Loading…</div>
<script type="module">
const out = document.getElementById("out");
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const el = (html) => { const t = document.createElement("template"); t.innerHTML = html; return t.content; };
const doc = await (await fetch("/openapi.json")).json();
const deref = (node) => {
  if (node && typeof node === "object" && typeof node.$ref === "string") {
    return node.$ref.slice(2).split("/").reduce((o, k) => o?.[k], doc);
  }
  return node;
};
const schemaText = (s) => esc(JSON.stringify(s, null, 2));
const refName = (s) => (s && s.$ref ? s.$ref.split("/").pop() : undefined);
const bodyOf = (content) => {
  if (!content) return "";
  return Object.entries(content).map(([type, media]) => {
    const name = refName(media.schema);
    const schema = name ? doc.components.schemas[name] : media.schema;
    return "<details><summary><code>" + esc(type) + "</code>" + (name ? " " + esc(name) : "") + "</summary><pre>" + schemaText(schema) + "</pre></details>";
  }).join("");
};
out.textContent = "";
out.append(el("<p>" + esc(doc.info.description ?? "") + "</p>"));
for (const [path, item] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(item)) {
    const security = op.security ?? doc.security ?? [];
    const auth = security.length === 0 ? "public" : security.map((s) => Object.keys(s).join("+")).join(" or ");
    let html = '<section class="op' + (op["x-dev-only"] ? " dev" : "") + '"><h3><span class="verb ' + method + '">' + method.toUpperCase() +
      "</span><code>" + esc(path) + "</code>" + (op.tags ?? []).map((t) => '<span class="tag">' + esc(t) + "</span>").join("") +
      '<span class="tag">' + esc(auth) + "</span></h3><p>" + esc(op.summary ?? "") + "</p>";
    if (op.description) html += "<p>" + esc(op.description) + "</p>";
    if (op.parameters?.length) {
      html += "<table><tr><th>parameter</th><th>in</th><th>schema</th><th></th></tr>" + op.parameters.map((p) =>
        "<tr><td><code>" + esc(p.name) + "</code>" + (p.required ? " *" : "") + "</td><td>" + esc(p.in) + "</td><td><code>" +
        esc(JSON.stringify(p.schema)) + "</code></td><td>" + esc(p.description ?? "") + "</td></tr>").join("") + "</table>";
    }
    if (op.requestBody) html += "<h4>Body</h4>" + bodyOf(deref(op.requestBody).content);
    html += "<h4>Answers</h4><table>" + Object.entries(op.responses).map(([status, r]) => {
      const res = deref(r);
      return "<tr><td><code>" + esc(status) + "</code></td><td>" + esc(res.description) + bodyOf(res.content) + "</td></tr>";
    }).join("") + "</table></section>";
    out.append(el(html));
  }
}
out.append(el("<h2>Schemas</h2>" + Object.entries(doc.components.schemas).map(([name, s]) =>
  "<details><summary>" + esc(name) + "</summary><pre>" + schemaText(s) + "</pre></details>").join("")));
</script>
</body>
</html>
`;

/** Behind the /dev guard (dev.ts): served only under DEV_MODE=1. */
export function apiReferencePage(c: Context<AppEnv>): Response {
  return c.html(PAGE);
}
