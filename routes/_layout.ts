/** The HTML shell the example pages share. Files starting with `_` are not routes. */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/**
 * A page: `title` and `body` are escaped as usual; `script` is the page's own code (never user
 * input) and goes in unescaped, or the browser would get `&quot;` instead of quotes.
 */
export function layout(title: string, body: Html, script: string): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }
          #log { border: 1px solid #ccc; min-height: 8rem; padding: 0.5rem; white-space: pre-wrap; }
          form { margin: 1rem 0; }
        </style>
      </head>
      <body>
        ${body}
        <script>
          const log = (line) => { document.getElementById("log").textContent += line + "\\n"; };
          const socketUrl = location.href.replace(/^http/, "ws");
          ${raw(script)}
        </script>
      </body>
    </html>`;
}
