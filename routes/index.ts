/** GET /: a page that talks to the echo consumer, to see a socket working in the browser. */
import type { Context } from "hono";
import { html } from "hono/html";

export function GET(c: Context) {
  return c.html(html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>Hono Channels</title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }
          #log { border: 1px solid #ccc; min-height: 8rem; padding: 0.5rem; white-space: pre-wrap; }
        </style>
      </head>
      <body>
        <h1>Hono Channels</h1>
        <p>Routes live in <code>routes/</code>, WebSocket consumers in <code>consumers/</code>.
           This page talks to <code>consumers/echo.ts</code> at <code>/echo</code>.</p>
        <form id="form"><input id="text" autocomplete="off" placeholder="Say something" /> <button>Send</button></form>
        <div id="log" aria-live="polite"></div>
        <script>
          const log = (line) => { document.getElementById("log").textContent += line + "\\n"; };
          const socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/echo");
          socket.onopen = () => log("connected");
          socket.onmessage = (event) => log("echo: " + event.data);
          socket.onclose = (event) => log("closed (" + event.code + ")");
          document.getElementById("form").onsubmit = (event) => {
            event.preventDefault();
            const input = document.getElementById("text");
            socket.send(input.value);
            input.value = "";
          };
        </script>
      </body>
    </html>`);
}
