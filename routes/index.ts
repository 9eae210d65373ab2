/** GET /: a page that talks to the echo consumer, to see a socket working in the browser. */
import type { Context } from "hono";
import { html } from "hono/html";
import { layout } from "./_layout.ts";

export function GET(c: Context) {
  return c.html(
    layout(
      "Hono Channels",
      html`<h1>Hono Channels</h1>
        <p>Routes live in <code>routes/</code>, WebSocket consumers in <code>consumers/</code>. This page
          talks to <code>consumers/echo.ts</code>; try also <a href="/chat/lobby">/chat/lobby</a> and
          <a href="/live">/live</a>.</p>
        <form id="form"><label for="text">Message</label> <input id="text" autocomplete="off" placeholder="Say something" /> <button>Send</button></form>
        <div id="log" aria-live="polite"></div>`,
      `const socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/echo");
       socket.onopen = () => log("connected");
       socket.onmessage = (event) => log("echo: " + event.data);
       socket.onclose = (event) => log("closed (" + event.code + ")");
       document.getElementById("form").onsubmit = (event) => {
         event.preventDefault();
         const input = document.getElementById("text");
         socket.send(input.value);
         input.value = "";
       };`,
    ),
  );
}
