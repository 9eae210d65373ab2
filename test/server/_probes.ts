/**
 * The fairness test's probes, in a process of their own: the test process also reads the burst's
 * sixty members and is saturated by them, so probes run there timed its lag as much as the
 * server's. Connects a talker and a listener to `/chat/quiet`, prints `ready`, and on a line on
 * stdin asks `/health` and sends a message from talker to listener, both at once; prints one JSON
 * line: how long each took and when each was done (ms since the epoch, comparable across processes).
 *
 *   bun test/server/_probes.ts <http://host:port>
 */
import { connect } from "./_client.ts";

const base = new URL(process.argv[2]!);
const ws = (path: string) => new URL(path, base).href.replace(/^http/, "ws");
const talker = await connect(ws("/chat/quiet?name=talker"));
const listener = await connect(ws("/chat/quiet?name=listener"));
console.log("ready");

for await (const _line of console) break; // the go signal

const now = () => performance.timeOrigin + performance.now();
const timed = async (work: () => Promise<void>) => {
  const started = now();
  await work();
  const doneAt = now();
  return { ms: doneAt - started, doneAt };
};
const [health, otherRoom] = await Promise.all([
  timed(async () => {
    const response = await fetch(new URL("/health", base));
    if (response.status !== 200) throw new Error(`/health answered ${response.status}`);
    await response.body?.cancel();
  }),
  timed(async () => {
    talker.send(JSON.stringify({ text: "still here" }));
    const got = (await listener.nextJson(10_000)) as { text?: string };
    if (got.text !== "still here") throw new Error(`the listener got ${JSON.stringify(got)}`);
  }),
]);
console.log(JSON.stringify({ health, otherRoom }));
talker.close();
listener.close();
process.exit(0);
