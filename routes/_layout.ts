/** The HTML shell the example pages share. Files starting with `_` are not routes. */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

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
          ${script}
        </script>
      </body>
    </html>`;
}
