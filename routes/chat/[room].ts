/**
 * GET /chat/:room: the chat page. Its socket is consumers/chat/[room].ts, on the same URL, through
 * the browser client (/client.js): pick a name and a room, see who joins and leaves, and whether
 * the connection is up (it reconnects by itself when the server comes back).
 */
import type { Context } from "hono";
import { html } from "hono/html";
import { layout } from "../_layout.ts";

export function GET(c: Context) {
  const room = c.req.param("room") ?? "";
  return c.html(
    layout(
      `Chat: ${room}`,
      html`<h1>Chat</h1>
        <form id="join">
          <label for="name">Name</label> <input id="name" value="anon" maxlength="50" size="10" />
          <label for="room">Room</label> <input id="room" value="${room}" maxlength="50" size="10" />
          <button>Join</button>
        </form>
        <p>Connection: <output id="status">connecting</output></p>
        <form id="form">
          <label for="text">Message</label> <input id="text" autocomplete="off" maxlength="2000" />
          <button>Send</button>
        </form>
        <div id="log" aria-live="polite"></div>`,
      `import { connect } from "/client.js";
       const field = (id) => document.getElementById(id);
       let chat;
       const start = () => {
         chat?.close();
         const name = field("name").value.trim() || "anon";
         const room = field("room").value.trim();
         if (location.pathname !== "/chat/" + room) history.replaceState(null, "", "/chat/" + encodeURIComponent(room));
         chat = connect("/chat/" + encodeURIComponent(room) + "?presence=1&name=" + encodeURIComponent(name));
         chat.onStatus((status, detail) => {
           field("status").textContent = status + (detail.inMs ? " in " + (detail.inMs / 1000).toFixed(1) + " s" : "");
           if (status === "open") log("connected as " + name);
         });
         chat.on("chat.message", (message) => log(message.user + ": " + message.text));
         chat.on("chat.presence", (message) => log("* " + message.user + (message.event === "join" ? " joined" : " left")));
         chat.on("error", (message) => log("! " + message.message));
       };
       start();
       field("name").onchange = start;
       field("join").onsubmit = (event) => { event.preventDefault(); start(); };
       field("form").onsubmit = (event) => {
         event.preventDefault();
         if (field("text").value.trim() === "") return;
         chat.send({ text: field("text").value });
         field("text").value = "";
       };`,
    ),
  );
}
