/** GET /live: a dashboard page. Its socket is consumers/live.ts; POST /api/updates feeds it. */
import type { Context } from "hono";
import { html } from "hono/html";
import { layout } from "./_layout.ts";

export function GET(c: Context) {
  return c.html(
    layout(
      "Live dashboard",
      html`<h1>Live dashboard</h1>
        <p>Push an update to every open dashboard: get a token from the demo login, then post with it.</p>
        <pre>curl -X POST localhost:8000/api/login -d '{"name":"ada"}'
curl -X POST localhost:8000/api/updates -H "authorization: Bearer TOKEN" -d '{"topic":"orders","data":42}'</pre>
        <p>Server tick (every LIVE_TICK_SECONDS, from <code>tasks/live-tick.ts</code>): <output id="tick">waiting</output></p>
        <button id="time">Ask the server for the time</button>
        <div id="log" aria-live="polite"></div>`,
      `const socket = new WebSocket(socketUrl);
       socket.onopen = () => log("connected");
       socket.onmessage = (event) => {
         const message = JSON.parse(event.data);
         if (message.type === "live.tick") document.getElementById("tick").textContent = message.at;
         else log(event.data);
       };
       socket.onclose = (event) => log("closed (" + event.code + ")");
       document.getElementById("time").onclick = () => socket.send(JSON.stringify({ type: "time" }));`,
    ),
  );
}
