/** GET /chat/:room: the chat page. Its socket is consumers/chat/[room].ts, on the same URL. */
import type { Context } from "hono";
import { html } from "hono/html";
import { layout } from "../_layout.ts";

export function GET(c: Context) {
  const room = c.req.param("room") ?? "";
  return c.html(
    layout(
      `Chat: ${room}`,
      html`<h1>Room <code>${room}</code></h1>
        <form id="form">
          <input id="name" placeholder="Your name" value="anon" size="10" />
          <input id="text" autocomplete="off" placeholder="Message" />
          <button>Send</button>
        </form>
        <div id="log" aria-live="polite"></div>`,
      `let socket;
       const open = () => {
         const name = encodeURIComponent(document.getElementById("name").value);
         socket = new WebSocket(socketUrl.split("?")[0] + "?name=" + name);
         socket.onopen = () => log("connected as " + decodeURIComponent(name));
         socket.onmessage = (event) => {
           const message = JSON.parse(event.data);
           log(message.type === "chat.message" ? message.user + ": " + message.text : "! " + message.message);
         };
         socket.onclose = (event) => log("closed (" + event.code + ")");
       };
       open();
       document.getElementById("name").onchange = () => { socket.close(); open(); };
       document.getElementById("form").onsubmit = (event) => {
         event.preventDefault();
         const input = document.getElementById("text");
         socket.send(JSON.stringify({ text: input.value }));
         input.value = "";
       };`,
    ),
  );
}
