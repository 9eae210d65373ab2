/**
 * A child `bun` process hosting a share of a group's members on the same Redis, for
 * group-send.ts. It reports, over IPC and on the shared clock, when its last member's handler ran.
 * The parent side is `Child`; `bun bench/_child.ts <redis-url>` is the child side.
 */
import type { WebsocketCommunicator } from "../src/index.ts";
import { waitUntilUp } from "../src/layers/layer.ts";
import { RedisChannelLayer } from "../src/redis.ts";
import { arrivals, host, now, quietLogger, release } from "./_support.ts";

type Reply = { seq: number; time: number } | { clock: number } | { ok: true };

async function runChild(): Promise<void> {
  const layer = new RedisChannelLayer({ url: process.argv[2], logger: quietLogger });
  await waitUntilUp(layer);
  let members: WebsocketCommunicator[] = [];
  const reply = (message: Reply) => process.send!(message);
  arrivals.onLast = (seq, time) => reply({ seq, time });
  process.on("message", async (message: { cmd: string; group: string; count: number }) => {
    if (message.cmd === "clock") reply({ clock: now() });
    if (message.cmd === "host") {
      arrivals.expected = message.count;
      members = await host(layer, message.group, message.count);
      reply({ ok: true });
    }
    if (message.cmd === "release") {
      await release(members.splice(0));
      reply({ ok: true });
    }
    if (message.cmd === "exit") {
      await layer.close();
      process.exit(0);
    }
  });
  reply({ ok: true });
}

/** A child process; `offset` is its clock minus ours, estimated from the fastest of 50 round trips. */
export class Child {
  offset = 0;
  rtt = Number.POSITIVE_INFINITY;
  readonly #waiting: Array<(reply: Reply) => void> = [];
  readonly #process;
  constructor(url: string, onArrival: (seq: number, time: number) => void) {
    this.#process = Bun.spawn([process.execPath, import.meta.path, url], {
      stdio: ["ignore", "inherit", "inherit"],
      onExit: (_child, code) => {
        if (code === 0) return;
        console.error(`a member process exited with ${code}`);
        process.exit(1); // the private redis-server goes with us (see startRedis)
      },
      ipc: (reply: Reply) => {
        if ("seq" in reply) onArrival(reply.seq, reply.time - this.offset);
        else this.#waiting.shift()?.(reply);
      },
    });
  }
  next(): Promise<Reply> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
  ask(message: object): Promise<Reply> {
    const reply = this.next();
    this.#process.send(message);
    return reply;
  }
  async syncClock(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const sent = now();
      const { clock } = (await this.ask({ cmd: "clock" })) as { clock: number };
      const back = now();
      if (back - sent < this.rtt) [this.rtt, this.offset] = [back - sent, clock - (sent + back) / 2];
    }
  }
  async exit(): Promise<void> {
    this.#process.send({ cmd: "exit" });
    await this.#process.exited;
  }
}

if (import.meta.main) await runChild();
