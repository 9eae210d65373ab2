/**
 * What the framework itself costs per delivery, without sockets: the shipped chat consumer
 * (`consumers/chat/[room].ts`) on the memory layer, driven through the real runner, writing to a
 * peer that only counts frames. No kernel, no load generator, no network: what is left is the
 * layer, the queues, the dispatch and the handlers, so a change to them shows here first and
 * clearly. Runs on all three runtimes:
 *
 *   bun bench/delivery.ts
 *   deno run -A bench/delivery.ts
 *   node --import tsx bench/delivery.ts
 *
 * Rows: _fanout_ (one room of 500, 200 messages, each sent once all had the last) and _rooms_
 * (100 rooms of 10, every member sending its 20 messages at once), with the shipped room, which
 * relays `chat.message` (`static relays`), and again with a handler that sends it on
 * (`return this.sendJson(event)`), the Channels way. Median of 5 rounds of CPU time (user +
 * system) per delivery, after one warm-up round.
 */
import ChatRoom, { type ChatEvents } from "../consumers/chat/[room].ts";
import type { Peer } from "../src/adapters/runtime.ts";
import { ConsumerRunner } from "../src/consumer/runner.ts";
import { createScope } from "../src/consumer/scope.ts";
import { InMemoryChannelLayer } from "../src/layers/memory.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 5);

/** The shipped room with a handler instead of the relay. */
class HandlerChatRoom extends ChatRoom {
  static override relays: string[] = [];
  chatMessage(event: { type: "chat.message" } & ChatEvents["chat.message"]) {
    return this.sendJson(event);
  }
}
type Room = typeof ChatRoom;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Opens `count` chat members in `room`; `onFrame` hears every frame any of them is sent. */
async function openMembers(
  consumer: Room,
  layer: InMemoryChannelLayer,
  room: string,
  count: number,
  onFrame: () => void,
) {
  const peer: Peer = { send: onFrame, close() {}, bufferedAmount: 0 };
  const runners: ConsumerRunner[] = [];
  for (let i = 0; i < count; i++) {
    const scope = createScope(`/chat/${room}`, { params: { room }, headers: new Headers() });
    const runner = new ConsumerRunner(consumer, scope, { layer, logger: quiet });
    const decision = await runner.start();
    if (!decision.accepted) throw new Error(`member ${i} of ${room} was refused`);
    runner.open(peer);
    runners.push(runner);
  }
  return runners;
}

/** Resolves once `counter()` reaches `target`, polling on each turn of the event loop. */
function until(counter: () => number, target: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (counter() >= target ? resolve() : setImmediate(check));
    check();
  });
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function fanout(consumer: Room): Promise<number> {
  const layer = new InMemoryChannelLayer({ capacity: 1000 });
  let frames = 0;
  const members = await openMembers(consumer, layer, "fan", 500, () => frames++);
  const sender = members[0]!;
  const start = cpuMicros();
  frames = 0;
  for (let i = 0; i < 200; i++) {
    sender.receive(JSON.stringify({ text: `message ${i}` }));
    await until(() => frames, (i + 1) * 500);
  }
  const spent = cpuMicros() - start;
  await layer.close();
  return spent / frames;
}

async function rooms(consumer: Room): Promise<number> {
  const layer = new InMemoryChannelLayer({ capacity: 1000 });
  let frames = 0;
  const all: ConsumerRunner[] = [];
  for (let r = 0; r < 100; r++)
    all.push(...(await openMembers(consumer, layer, `room${r}`, 10, () => frames++)));
  const start = cpuMicros();
  frames = 0;
  for (const member of all) {
    for (let i = 0; i < 20; i++) member.receive(JSON.stringify({ text: `message ${i}` }));
  }
  await until(() => frames, 100 * 10 * 10 * 20);
  const spent = cpuMicros() - start;
  await layer.close();
  return spent / frames;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : `node`;
console.log(`| ${runtime} | CPU µs per delivery, median of ${ROUNDS} (min-max) |`);
console.log("| --- | --- |");
const only = process.env.SCENARIO;
for (const [name, scenario, consumer] of [
  ["fanout", fanout, ChatRoom],
  ["rooms", rooms, ChatRoom],
  ["fanout, handler", fanout, HandlerChatRoom],
  ["rooms, handler", rooms, HandlerChatRoom],
] as const) {
  if (only && !name.startsWith(only)) continue;
  await scenario(consumer); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) samples.push(await scenario(consumer));
  const fmt = (value: number) => value.toFixed(2);
  console.log(
    `| ${name} | ${fmt(median(samples))} (${fmt(Math.min(...samples))}-${fmt(Math.max(...samples))}) |`,
  );
}
process.exit(0);
