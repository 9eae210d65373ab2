/**
 * The server contract: what every runtime adapter must do, checked against a real server process.
 * bun.test.ts, deno.test.ts and node.test.ts each run it on their runtime.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { issueToken } from "../../src/security/auth.ts";
import { connect, handshake, type TestSocket } from "./_client.ts";
import { type ServerProcess, startServer, TEST_SECRET } from "./_fixture.ts";
import { describeOnRuntime, type RuntimeName } from "./_runtimes.ts";

export function serverContract(runtime: RuntimeName): void {
  describeOnRuntime(runtime, `server on ${runtime}`, () => {
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServer(runtime, { SHUTDOWN_TIMEOUT_MS: "3000" });
    });
    afterAll(() => server?.kill());

    it("refuses to start on a bad PORT, naming the variable", async () => {
      const error = await startServer(runtime, { PORT: "eighty" }).catch((caught: Error) => caught);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain("exited with 1");
      expect((error as Error).message).toContain("SettingsError [INVALID_SETTING] PORT");
    });

    it("prints its URL and the route table on start", async () => {
      await server.waitForOutput("consumers/tracked.ts");
      expect(server.output()).toContain(`Hono Channels on ${runtime}: listening on ${server.url.origin}`);
      expect(server.output()).toMatch(/GET\s+\/health\s+routes\/health\.ts/);
      expect(server.output()).toMatch(/WS\s+\/echo\s+consumers\/echo\.ts/);
    });

    it("answers GET /health with 200 JSON, with or without a trailing slash", async () => {
      for (const path of ["/health", "/health/"]) {
        const response = await fetch(new URL(path, server.url));
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ status: "ok", layer: "up" });
      }
    });

    it("answers 404 for an unknown path", async () => {
      expect((await fetch(new URL("/no/such/page", server.url))).status).toBe(404);
    });

    it("answers 426 to a plain GET on a socket-only path", async () => {
      const response = await fetch(new URL("/echo", server.url));
      expect(response.status).toBe(426);
    });

    it("echoes text and binary frames", async () => {
      const client = await connect(server.wsUrl("/echo"));
      client.send("hello");
      expect(await client.next()).toBe("hello");
      client.send(new Uint8Array([0, 1, 2, 255]));
      expect(await client.next()).toEqual(new Uint8Array([0, 1, 2, 255]));
      client.close(1000);
      expect((await client.closed).code).toBe(1000);
    });

    it("accepts a trailing slash on a socket path", async () => {
      const client = await connect(server.wsUrl("/echo/"));
      client.send("slash");
      expect(await client.next()).toBe("slash");
      client.close();
    });

    it("shows the client the close code and reason the consumer chose", async () => {
      const client = await connect(server.wsUrl("/close"));
      client.send(JSON.stringify({ code: 4321, reason: "bye from the consumer" }));
      expect(await client.closed).toEqual({ code: 4321, reason: "bye from the consumer" });
    });

    it("refuses the handshake with HTTP 403 when connect() closes", async () => {
      await expect(connect(server.wsUrl("/refuse"))).rejects.toThrow();
      expect((await handshake(server.url, "/refuse")).status).toBe(403);
    });

    it("passes path parameters to the consumer, catch-all included", async () => {
      const client = await connect(server.wsUrl("/params/first/and/the/rest"));
      expect(JSON.parse((await client.next()) as string)).toEqual({ a: "first", rest: "and/the/rest" });
      client.close();
    });

    it("closes only the failing socket with 1011 and logs the consumer and path", async () => {
      const bystander = await connect(server.wsUrl("/echo"));
      const crashing = await connect(server.wsUrl("/crash"));
      crashing.send("boom");
      expect((await crashing.closed).code).toBe(1011);
      bystander.send("still here");
      expect(await bystander.next()).toBe("still here");
      bystander.close();
      await server.waitForOutput("Crash.receive() failed at /crash");
    });

    it("gives the consumer its scope: query, headers, cookies, client, user and state from middleware", async () => {
      const client = await connect(server.wsUrl("/scope?tag=a&tag=b&as=ada"), [], {
        "x-test-header": "present",
        cookie: "sid=abc; theme=dark",
      });
      const scope = JSON.parse((await client.next()) as string);
      client.close();
      expect(scope).toMatchObject({
        path: "/scope",
        params: {},
        query: [
          ["tag", "a"],
          ["tag", "b"],
          ["as", "ada"],
        ],
        header: "present",
        cookies: { sid: "abc", theme: "dark" },
        subprotocols: [],
        user: { id: "id-ada", name: "ada" },
        state: { requestId: "req-42" },
      });
      expect(scope.client.address).toMatch(/127\.0\.0\.1/);
      expect(scope.client.port).toBeGreaterThan(0);
    });

    it("echoes the subprotocol the consumer accepted, and its extra handshake headers", async () => {
      const client = await connect(server.wsUrl("/scope?pick=v2"), ["v1", "v2"]);
      expect(client.socket.protocol).toBe("v2");
      expect(JSON.parse((await client.next()) as string).subprotocols).toEqual(["v1", "v2"]);
      client.close();
      const response = await handshake(server.url, "/scope?pick=v1", { "Sec-WebSocket-Protocol": "v1, v2" });
      expect(response.status).toBe(101);
      expect(response.headers["sec-websocket-protocol"]).toBe("v1");
      expect(response.headers["x-consumer"]).toBe("scope-report");
    });

    it("echoes no subprotocol when the consumer accepted none, even if the client offered some", async () => {
      const offered = await handshake(server.url, "/scope", { "Sec-WebSocket-Protocol": "v1, v2" });
      expect(offered.status).toBe(101);
      expect(offered.headers["sec-websocket-protocol"] ?? "").toBe("");
      const client = await connect(server.wsUrl("/scope"));
      expect(client.socket.protocol).toBe("");
      client.close();
    });

    it("keeps 50 concurrent clients' 100 messages each in order", async () => {
      const clients = await Promise.all(Array.from({ length: 50 }, () => connect(server.wsUrl("/echo"))));
      await Promise.all(
        clients.map(async (client, c) => {
          for (let m = 0; m < 100; m++) client.send(`${c}:${m}`);
          for (let m = 0; m < 100; m++) expect(await client.next()).toBe(`${c}:${m}`);
          client.close();
        }),
      );
    });

    /** Connects to `path` and records the client in `clients`, for closeAll() in a finally. */
    const join = async (clients: TestSocket[], path: string) => {
      const client = await connect(server.wsUrl(path));
      clients.push(client);
      return client;
    };

    /** Closes every client and waits until each is closed, so the server has run its disconnect. */
    const closeAll = async (clients: TestSocket[]) => {
      for (const client of clients) client.close();
      await Promise.all(clients.map((client) => client.closed));
    };

    it("chat: a room's members get its messages in order, other rooms get none", async () => {
      const clients: TestSocket[] = [];
      try {
        const ada = await join(clients, "/chat/lobby?name=ada");
        const bob = await join(clients, "/chat/lobby?name=bob");
        const anon = await join(clients, "/chat/lobby");
        const elsewhere = await join(clients, "/chat/other");
        const lobby = [ada, bob, anon];

        const texts = Array.from({ length: 20 }, (_, m) => `m${m}`);
        for (const text of texts) ada.send(JSON.stringify({ text }));
        for (const member of lobby) {
          const received = [];
          for (let m = 0; m < texts.length; m++) received.push(await member.nextJson());
          expect(received).toEqual(texts.map((text) => ({ type: "chat.message", user: "ada", text })));
        }
        // Exactly those 20 in the lobby, and nothing at all in the other room.
        expect(await Promise.all([...lobby, elsewhere].map((client) => client.receiveNothing(200)))).toEqual([
          true,
          true,
          true,
          true,
        ]);
      } finally {
        await closeAll(clients);
      }
    });

    /** POSTs to the fixture's /api/groups (a group send, or a channel taken out of a group). */
    const groups = async (body: Record<string, unknown>) => {
      const response = await fetch(new URL("/api/groups", server.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      await response.body?.cancel();
    };

    /** Joins /relay in `group`; resolves with the socket and the channel name it was told. */
    const joinRelay = async (clients: TestSocket[], group: string) => {
      const client = await join(clients, `/relay?group=${group}`);
      const { channel } = (await client.nextJson()) as { channel: string };
      return { client, channel };
    };

    it("relays: a relayed type reaches every member as its JSON; a member that left, or was taken out, gets no more", async () => {
      const clients: TestSocket[] = [];
      try {
        const [stays, leaves, removed] = await Promise.all(
          [0, 1, 2].map(() => joinRelay(clients, "relay-members")),
        );
        const first = { type: "news.item", n: 1, title: "ünïcode ✓" };
        await groups({ group: "relay-members", send: first });
        for (const { client } of [stays!, leaves!, removed!]) expect(await client.nextJson()).toEqual(first);

        leaves!.client.send("leave");
        expect(await leaves!.client.next()).toBe("left");
        await groups({ group: "relay-members", discard: removed!.channel });
        await groups({ group: "relay-members", send: { type: "news.item", n: 2 } });
        expect(await stays!.client.nextJson()).toEqual({ type: "news.item", n: 2 });
        expect(await leaves!.client.receiveNothing(200)).toBe(true);
        expect(await removed!.client.receiveNothing(0)).toBe(true);
      } finally {
        await closeAll(clients);
      }
    });

    it("relays: one sent before the handshake was decided comes after it, and later ones wait behind it", async () => {
      const clients: TestSocket[] = [];
      try {
        const client = await join(clients, "/relay?group=relay-early&early=1");
        // connect() is still running (300 ms): the socket is open, a relay waits in the queue.
        await groups({ group: "relay-early", send: { type: "news.item", n: 1 } });
        const received = [await client.nextJson(), await client.nextJson(), await client.nextJson()];
        expect(received[0]).toHaveProperty("channel");
        expect(received.slice(1)).toEqual([
          { type: "news.item", n: -1 },
          { type: "news.item", n: 1 },
        ]);
        await groups({ group: "relay-early", send: { type: "news.item", n: 2 } });
        expect(await client.nextJson()).toEqual({ type: "news.item", n: 2 });
      } finally {
        await closeAll(clients);
      }
    });

    it("relays: frames sent before a relay arrive before it; a relay does not wait for a handler still running", async () => {
      const clients: TestSocket[] = [];
      try {
        const { client } = await joinRelay(clients, "relay-order");
        client.send("acks-then-news");
        expect([await client.next(), await client.next(), await client.nextJson()]).toEqual([
          "ack 1",
          "ack 2",
          { type: "news.item", n: 0 },
        ]);

        client.send("slow"); // its handler answers in 300 ms; the relay below is not queued behind it
        await groups({ group: "relay-order", send: { type: "news.item", n: 1 } });
        expect(await client.nextJson()).toEqual({ type: "news.item", n: 1 });
        expect(await client.next()).toBe("slow done");
      } finally {
        await closeAll(clients);
      }
    });

    it("a layer a view took at import time is the server's layer: its group sends reach sockets", async () => {
      const clients: TestSocket[] = [];
      try {
        const member = await join(clients, "/chat/import-time");
        const response = await fetch(new URL("/api/announce", server.url), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ room: "import-time", text: "from a module-level layer" }),
        });
        expect(response.status).toBe(200);
        await response.body?.cancel();
        expect(await member.nextJson()).toEqual({
          type: "chat.message",
          user: "server",
          text: "from a module-level layer",
        });
      } finally {
        await closeAll(clients);
      }
    });

    it("a view hands slow work to a worker and answers at once; the worker's result reaches the room", async () => {
      const clients: TestSocket[] = [];
      try {
        const member = await join(clients, "/chat/reports-room");
        const response = await fetch(new URL("/api/reports", server.url), {
          method: "POST",
          body: JSON.stringify({ room: "reports-room" }),
        });
        expect(response.status).toBe(202);
        expect(await response.json()).toEqual({ queued: true });
        // The worker takes 200 ms: the view had answered long before the report arrives.
        const report = (await member.nextJson(3000)) as { type: string; user: string; text: string };
        expect(report).toMatchObject({ type: "chat.message", user: "reports" });
        expect(report.text).toStartWith("Report for #reports-room, asked by anon");
        const refused = await fetch(new URL("/api/reports", server.url), { method: "POST", body: "{}" });
        expect(refused.status).toBe(400);
        await refused.body?.cancel();
      } finally {
        await closeAll(clients);
      }
    });

    it("chat: invalid JSON closes only that member with 1007; the room keeps working", async () => {
      const clients: TestSocket[] = [];
      try {
        const ada = await join(clients, "/chat/lobby?name=ada");
        const bob = await join(clients, "/chat/lobby?name=bob");
        const anon = await join(clients, "/chat/lobby");

        anon.send("{not json");
        expect(await anon.nextJson()).toMatchObject({ type: "error", code: "INVALID_JSON" });
        expect((await anon.closed).code).toBe(1007);

        bob.send(JSON.stringify({ text: "still here?" }));
        for (const member of [ada, bob]) {
          expect(await member.nextJson()).toEqual({ type: "chat.message", user: "bob", text: "still here?" });
        }
      } finally {
        await closeAll(clients);
      }
    });

    it("chat: the page and the socket share /chat/:room; a bad room name is refused", async () => {
      const page = await fetch(new URL("/chat/lobby", server.url));
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(await page.text()).toContain("lobby");

      const client = await connect(server.wsUrl("/chat/lobby?name=ada"));
      try {
        client.send(JSON.stringify({ text: "hi" }));
        expect(await client.nextJson()).toEqual({ type: "chat.message", user: "ada", text: "hi" });
      } finally {
        await closeAll([client]);
      }

      await expect(connect(server.wsUrl("/chat/bad%20room"))).rejects.toThrow();
      expect((await handshake(server.url, "/chat/bad%20room")).status).toBe(403);
    });

    it("live: a request is answered to its dashboard alone; POST /api/updates reaches all", async () => {
      const clients: TestSocket[] = [];
      try {
        const asking = await join(clients, "/live");
        const watching = await join(clients, "/live");

        asking.send(JSON.stringify({ type: "time" }));
        const time = (await asking.nextJson()) as { type: string; now: string };
        expect(time).toEqual({ type: "time", now: expect.any(String) });
        expect(Number.isNaN(Date.parse(time.now))).toBe(false);
        expect(await watching.receiveNothing(200)).toBe(true);

        // Bad bodies are refused and push nothing: the next frame each dashboard gets is the good update.
        const token = await issueToken({ id: "editor", name: "editor" }, TEST_SECRET);
        const post = (body: string, authorization = `Bearer ${token}`) =>
          fetch(new URL("/api/updates", server.url), {
            method: "POST",
            headers: { "content-type": "application/json", authorization },
            body,
          });
        // Broadcasting needs a logged-in user.
        const anonymous = await fetch(new URL("/api/updates", server.url), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ topic: "orders" }),
        });
        expect(anonymous.status).toBe(401);
        await anonymous.body?.cancel();
        for (const bad of ["not json", JSON.stringify({ data: { n: 1 } }), JSON.stringify({ topic: "" })]) {
          const response = await post(bad);
          expect(response.status).toBe(400);
          await response.body?.cancel();
        }
        const accepted = await post(JSON.stringify({ topic: "orders", data: { n: 1 } }));
        expect(accepted.status).toBe(202);
        await accepted.body?.cancel();
        for (const dashboard of [asking, watching]) {
          const update = (await dashboard.nextJson()) as Record<string, unknown> & { at: string };
          expect(update).toEqual({
            type: "live.update",
            topic: "orders",
            data: { n: 1 },
            at: expect.any(String),
          });
          expect(Number.isNaN(Date.parse(update.at))).toBe(false);
        }
      } finally {
        await closeAll(clients);
      }
    });

    it("live: GET /live answers with the dashboard page", async () => {
      const page = await fetch(new URL("/live", server.url));
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(await page.text()).toContain("<html");
    });

    it("without SECRET_KEY, a token from the demo login opens a socket that needs a user", async () => {
      // One development key per process, read once at startup: the login view, the views' and the
      // consumers' middleware must all agree on it.
      const keyless = await startServer(runtime, { SECRET_KEY: "" });
      try {
        const login = await fetch(new URL("/api/login", keyless.url), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "ada" }),
        });
        expect(login.status).toBe(200);
        const { token } = (await login.json()) as { token: string };
        const me = await connect(keyless.wsUrl(`/me?token=${token}`));
        expect(await me.nextJson()).toEqual({ type: "me", user: { id: "ada", name: "ada" } });
        me.close();
        await me.closed;
      } finally {
        keyless.kill();
      }
    });

    it("on SIGTERM closes sockets with 1001, runs every disconnect, and exits 0", async () => {
      const clients = await Promise.all(
        [1, 2, 3].map(async (id) => {
          const client = await connect(server.wsUrl(`/tracked?id=${id}`));
          expect(await client.next()).toBe("ready");
          return client;
        }),
      );
      const exitCode = await server.stop("SIGTERM");
      for (const client of clients) expect((await client.closed).code).toBe(1001);
      for (const id of [1, 2, 3]) expect(server.output()).toContain(`disconnected ${id} 1001`);
      expect(exitCode).toBe(0);
      // lifecycle.ts: startup before serving; shutdown after the last disconnect, before the exit.
      const output = server.output();
      const at = (text: string) => output.indexOf(text);
      expect(at("lifecycle: startup")).toBeGreaterThanOrEqual(0);
      expect(at("lifecycle: startup")).toBeLessThan(at("listening on"));
      expect(at("lifecycle: shutdown")).toBeGreaterThan(
        Math.max(...[1, 2, 3].map((id) => at(`disconnected ${id} 1001`))),
      );
      expect(at("lifecycle: shutdown")).toBeLessThan(at("stopped"));
    });
  });
}
