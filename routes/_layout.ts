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
          body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
          #log { border: 1px solid #ccc; min-height: 8rem; padding: 0.5rem; white-space: pre-wrap; overflow-wrap: anywhere; }
          form { margin: 1rem 0; display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
          input { font: inherit; max-width: 100%; padding: 0.25rem; }
          button { font: inherit; padding: 0.25rem 0.75rem; }
          output { font-weight: bold; }
          pre { white-space: pre-wrap; overflow-wrap: anywhere; }
        </style>
      </head>
      <body>
        ${body}
        <script type="module">
          const log = (line) => { document.getElementById("log").textContent += line + "\\n"; };
          const socketUrl = location.href.replace(/^http/, "ws");
          ${raw(script)}
        </script>
      </body>
    </html>`;
}
