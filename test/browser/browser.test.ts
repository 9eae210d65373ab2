/**
 * The shipped pages in a real browser (Debian's Chromium, driven by playwright-core): two chat
 * pages talk through the server, see each other join and leave, and reconnect by themselves when
 * the server restarts; the dashboard's form pushes an update; the pages work at 360 px with
 * labelled inputs; and the origin check refuses a page from another site while letting the
 * server's own page in. Skipped with one line without Chromium; fails under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { issueToken } from "../../src/security/auth.ts";
import { freePort } from "../_support/redis.ts";
import { type ServerProcess, startServer, TEST_SECRET } from "../server/_fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
// Flags for a root sandbox with no network beyond loopback (see the machine notes).
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const log = (page: Page) =>
  page
    .locator("#log")
    .textContent()
    .then((text) => text ?? "");

async function waitForLog(page: Page, text: string): Promise<string> {
  await page.waitForFunction(
    (expected) => document.getElementById("log")?.textContent?.includes(expected),
    text,
    {
      timeout: 10_000,
    },
  );
  return log(page);
}

function describeWithChromium(name: string, suite: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, suite);
  } else if (process.env.CI) {
    describe(name, () => {
      it("needs Chromium (CI=true: a missing browser fails)", () => {
        throw new Error(`${CHROMIUM} is missing; .ci/run installs it with apt-get install chromium`);
      });
    });
  } else {
    console.warn(`skipping ${name}: no ${CHROMIUM} (apt-get install chromium)`);
    describe.skip(name, suite);
  }
}

describeWithChromium("pages in Chromium", () => {
  let browser: Browser;
  let dev: ServerProcess;
  let strict: ServerProcess;
  let foreignSite: ReturnType<typeof Bun.serve>;

  beforeAll(async () => {
    [browser, dev, strict] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, args: FLAGS }),
      // A fast dashboard tick, so the page can be seen showing it.
      startServer("bun", { LIVE_TICK_SECONDS: "0.3" }),
      // Production without ALLOWED_ORIGINS: its own host only (a listed ALLOWED_ORIGINS is the only rule).
      startServer("bun", { NODE_ENV: "production" }),
    ]);
    // Another site: a page on another port that tries to open a socket to the strict server.
    foreignSite = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () =>
        new Response(
          `<!doctype html><div id="log"></div><script>
            const socket = new WebSocket(${JSON.stringify(strict.wsUrl("/echo"))});
            socket.onopen = () => { document.getElementById("log").textContent += "opened"; };
            socket.onclose = (event) => { document.getElementById("log").textContent += "closed " + event.code; };
          </script>`,
          { headers: { "content-type": "text/html" } },
        ),
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    dev?.kill();
    strict?.kill();
    foreignSite?.stop(true);
  });

  it("carries a chat message typed in one page to another page in the same room", async () => {
    const [ada, bob] = await Promise.all([browser.newPage(), browser.newPage()]);
    for (const page of [ada, bob]) {
      await page.goto(new URL("/chat/lobby", dev.url).href);
      await waitForLog(page, "connected as anon");
    }
    await ada.fill("#name", "ada");
    await ada.dispatchEvent("#name", "change"); // the page reconnects as ada
    await waitForLog(ada, "connected as ada");
    await ada.fill("#text", "hello from a real browser");
    await ada.press("#text", "Enter");
    expect(await waitForLog(bob, "ada: hello from a real browser")).toContain(
      "ada: hello from a real browser",
    );
    expect(await waitForLog(ada, "ada: hello from a real browser")).toContain(
      "ada: hello from a real browser",
    );
    await Promise.all([ada.close(), bob.close()]);
  });

  it("shows an update pushed over HTTP on the live dashboard page", async () => {
    const dashboard = await browser.newPage();
    await dashboard.goto(new URL("/live", dev.url).href);
    await waitForLog(dashboard, "connected");
    const token = await issueToken({ id: "editor", name: "editor" }, TEST_SECRET);
    const response = await fetch(new URL("/api/updates", dev.url), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ topic: "orders", data: 42 }),
    });
    expect(response.status).toBe(202);
    expect(await waitForLog(dashboard, '"topic":"orders"')).toContain('"type":"live.update"');
    await dashboard.close();
  });

  it("shows the server's periodic tick (tasks/live-tick.ts) on the live dashboard, updating", async () => {
    const dashboard = await browser.newPage();
    await dashboard.goto(new URL("/live", dev.url).href);
    const tick = () => dashboard.locator("#tick").textContent();
    await dashboard.waitForFunction(() =>
      /^\d{4}-\d\d-\d\dT/.test(document.getElementById("tick")?.textContent ?? ""),
    );
    const first = await tick();
    await dashboard.waitForFunction((seen) => document.getElementById("tick")?.textContent !== seen, first);
    expect(new Date((await tick()) ?? "").getTime()).toBeGreaterThan(new Date(first ?? "").getTime());
    // Ticks go to their own place: the log keeps showing what the user asked for.
    expect(await log(dashboard)).not.toContain("live.tick");
    await dashboard.close();
  });

  it("lets the server's own page open a socket and refuses a page from another site", async () => {
    const own = await browser.newPage();
    await own.goto(new URL("/", strict.url).href);
    expect(await waitForLog(own, "connected")).toContain("connected");
    const foreign = await browser.newPage();
    await foreign.goto(foreignSite.url.href);
    // The handshake is refused with 403: the browser reports an abnormal close, never an open.
    const text = await waitForLog(foreign, "closed");
    expect(text).toBe("closed 1006");
    await Promise.all([own.close(), foreign.close()]);
  });

  it("shows who joins and leaves the room", async () => {
    const [ada, bob] = [await browser.newPage(), await browser.newPage()];
    await ada.goto(new URL("/chat/presence", dev.url).href);
    await waitForLog(ada, "connected as anon");
    await ada.fill("#name", "ada");
    await ada.dispatchEvent("#name", "change");
    await waitForLog(ada, "connected as ada");
    await bob.goto(new URL("/chat/presence", dev.url).href);
    await bob.fill("#name", "bob");
    await bob.dispatchEvent("#name", "change");
    await waitForLog(ada, "* bob joined");
    await bob.close();
    expect(await waitForLog(ada, "* bob left")).toContain("* bob left");
    await ada.close();
  });

  it("pushes an update from the dashboard's form to every open dashboard", async () => {
    const [editor, viewer] = [await browser.newPage(), await browser.newPage()];
    for (const page of [editor, viewer]) {
      await page.goto(new URL("/live", dev.url).href);
      await waitForLog(page, "connected");
    }
    await editor.fill("#topic", "shipments");
    await editor.fill("#data", '{"late":3}');
    await editor.click("button:has-text('Push to every dashboard')");
    expect(await waitForLog(viewer, '"topic":"shipments"')).toContain('"data":{"late":3}');
    expect(await waitForLog(editor, '"topic":"shipments"')).toContain('"type":"live.update"');
    await Promise.all([editor.close(), viewer.close()]);
  });

  it("fits a 360 px wide screen, labels every input, and sends a message from the keyboard", async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 640 } });
    for (const path of ["/chat/narrow", "/live", "/"]) {
      await page.goto(new URL(path, dev.url).href);
      await waitForLog(page, "connected");
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect({ path, width: Math.min(width, 360) }).toEqual({ path, width }); // no sideways scrolling
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll("input")]
          .filter((input) => (input.labels?.length ?? 0) === 0)
          .map((input) => input.id),
      );
      expect({ path, unlabelled }).toEqual({ path, unlabelled: [] });
    }
    await page.goto(new URL("/chat/narrow", dev.url).href);
    await waitForLog(page, "connected as anon");
    await page.focus("#text");
    await page.keyboard.type("typed, not clicked");
    await page.keyboard.press("Enter");
    expect(await waitForLog(page, "anon: typed, not clicked")).toContain("anon: typed, not clicked");
    await page.close();
  });
});

describeWithChromium("the browser client across a server restart", () => {
  it("reconnects by itself when the server comes back, and the room works again", async () => {
    const port = String(await freePort());
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    let server = await startServer("bun", { PORT: port });
    try {
      const page = await browser.newPage();
      await page.goto(new URL("/chat/restart", server.url).href);
      await waitForLog(page, "connected as anon");
      await server.stop("SIGKILL");
      await page.waitForFunction(() =>
        document.getElementById("status")?.textContent?.startsWith("reconnecting"),
      );
      server = await startServer("bun", { PORT: port });
      await page.waitForFunction(() => document.getElementById("status")?.textContent === "open", undefined, {
        timeout: 15_000,
      });
      await page.fill("#text", "after the restart");
      await page.press("#text", "Enter");
      expect(await waitForLog(page, "anon: after the restart")).toContain("anon: after the restart");
      expect((await log(page)).match(/connected as anon/g)).toHaveLength(2);
    } finally {
      server.kill();
      await browser.close();
    }
  }, 60_000);
});
