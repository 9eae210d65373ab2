/**
 * GET /live: a dashboard page. Its socket is consumers/live.ts (through /client.js); the form logs
 * in with the demo login and pushes an update with POST /api/updates, which every open dashboard
 * shows; tasks/live-tick.ts sends the server tick.
 */
import type { Context } from "hono";
import { html } from "hono/html";
import { layout } from "./_layout.ts";

export function GET(c: Context) {
  return c.html(
    layout(
      "Live dashboard",
      html`<h1>Live dashboard</h1>
        <p>Connection: <output id="status">connecting</output>.
          Server tick (every LIVE_TICK_SECONDS, from <code>tasks/live-tick.ts</code>): <output id="tick">waiting</output></p>
        <form id="update">
          <label for="editor">Your name</label> <input id="editor" value="editor" size="8" />
          <label for="topic">Topic</label> <input id="topic" value="orders" size="8" />
          <label for="data">Data (JSON)</label> <input id="data" value="42" size="8" />
          <button>Push to every dashboard</button>
        </form>
        <p>Or from a terminal:</p>
        <pre>curl -X POST localhost:8000/api/login -d '{"name":"ada"}'
curl -X POST localhost:8000/api/updates -H "authorization: Bearer TOKEN" -d '{"topic":"orders","data":42}'</pre>
        <button id="time">Ask the server for the time</button>
        <div id="log" aria-live="polite"></div>`,
      `import { connect } from "/client.js";
       const field = (id) => document.getElementById(id);
       const live = connect("/live");
       live.onStatus((status) => {
         field("status").textContent = status;
         if (status === "open") log("connected");
       });
       live.on("live.tick", (message) => { field("tick").textContent = message.at; });
       live.on("live.update", (message) => log(JSON.stringify(message)));
       live.on("time", (message) => log(JSON.stringify(message)));
       live.on("error", (message) => log("! " + message.message));
       field("time").onclick = () => live.send({ type: "time" });
       field("update").onsubmit = async (event) => {
         event.preventDefault();
         const post = (path, body) => fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
         const login = await post("/api/login", { name: field("editor").value.trim() });
         if (!login.ok) return log("! login: " + (await login.json()).error);
         let data = field("data").value;
         try { data = JSON.parse(data); } catch {}
         const sent = await post("/api/updates", { topic: field("topic").value.trim(), data });
         if (!sent.ok) log("! update: " + (await sent.json()).error);
       };`,
    ),
  );
}
