/**
 * Relays: message types a consumer class forwards to its client as they are, declared with
 * `static relays = ["chat.message"]`. A relayed message runs no handler and does not wait in the
 * consumer's queue: the moment the layer delivers it, it is written to the socket as the JSON text
 * of the message, one text shared by every member. That is how Socket.IO's `to(room).emit()` and a
 * hand-written room map behave, and what lets a runtime with native publish (Bun) fan a group
 * message out in one call: each socket subscribes to one topic per (group, relayed type), and the
 * hub publishes once instead of visiting each member's queue (`FanOut`).
 *
 * What a relay gives up is the queue's order: a relayed message can reach the client ahead of
 * frames and messages its consumer has not handled yet. Frames already sent keep their order, and
 * so do relays among themselves: one pushed before the handshake is decided waits in the queue,
 * and later ones wait behind it (delivery.ts); native topics start only once none waits.
 */
import type { Peer, TopicPublisher } from "../adapters/runtime.ts";
import { ConsumerStateError } from "../errors.ts";
import type { FanOut, Message } from "../layers/layer.ts";
import { counters } from "../metrics/counters.ts";
import { handlerName, resolveHandler } from "./dispatch.ts";
import { defaultEncodeJson } from "./json.ts";

const TEXT = Symbol("relay text");

/** A message the hub shares between members; the cached text is invisible to copies and to JSON. */
type Shared = Message & { [TEXT]?: string };

/** The frame a relayed message becomes: its JSON text, encoded once per message whatever the members. */
export function relayText(message: Message): string {
  const shared = message as Shared;
  shared[TEXT] ??= JSON.stringify(message);
  return shared[TEXT];
}

/** The native topic of one (group, type) pair; `\n` appears in neither a group name nor a type. */
export function topicOf(group: string, type: string): string {
  return `${type}\n${group}`;
}

const NO_RELAYS: ReadonlySet<string> = new Set();
const byClass = new WeakMap<object, ReadonlySet<string>>();

/**
 * The types a consumer class relays (its `static relays`), checked once per class: each must be a
 * valid message type, and none may also have a handler, which would never run.
 */
export function relayTypes(consumerClass: object): ReadonlySet<string> {
  let types = byClass.get(consumerClass);
  if (types) return types;
  const declared = (consumerClass as { relays?: unknown }).relays;
  const name = (consumerClass as { name?: string }).name ?? "consumer";
  if (declared === undefined || (Array.isArray(declared) && declared.length === 0)) {
    types = NO_RELAYS;
  } else if (!Array.isArray(declared)) {
    throw new ConsumerStateError(`${name}.relays must be an array of message types, like ["chat.message"]`);
  } else {
    const encode = (consumerClass as { prototype: { encodeJson?: unknown } }).prototype.encodeJson;
    if (encode !== undefined && encode !== defaultEncodeJson) {
      throw new ConsumerStateError(
        `${name} overrides encodeJson(), but relays are written as JSON.stringify(message): its ` +
          "relayed frames would not match the rest. Send those types from a handler instead.",
      );
    }
    for (const type of declared) {
      handlerName(type); // throws a DispatchError naming the problem with an invalid type
      if (hasHandler(consumerClass as { prototype: object }, type as string)) {
        throw new ConsumerStateError(
          `${name} relays "${type}" (static relays) and also defines its handler ${handlerName(type)}(), ` +
            "which would never run: remove one of the two.",
        );
      }
    }
    types = new Set(declared as string[]);
  }
  byClass.set(consumerClass, types);
  return types;
}

function hasHandler(consumerClass: { prototype: object }, type: string): boolean {
  try {
    resolveHandler(Object.create(consumerClass.prototype) as object, type);
    return true;
  } catch {
    return false;
  }
}

/** A socket that has native topics (Bun's): `subscribe`, `unsubscribe` and its server's publish. */
export type TopicPeer = Required<Pick<Peer, "subscribe" | "unsubscribe" | "publisher">>;

/** Whether `peer` has native topics. */
export function hasTopics(peer: Peer): peer is Peer & TopicPeer {
  return peer.publisher !== undefined;
}

const fanOuts = new WeakMap<TopicPublisher, FanOut>();

/** The hub's view of a server's publish: one call per group message, whatever the members. */
function fanOutOf(publisher: TopicPublisher): FanOut {
  let fanOut = fanOuts.get(publisher);
  if (!fanOut) {
    fanOut = {
      publish(group, message, members) {
        counters.framesOut += members;
        publisher.publish(topicOf(group, message.type), relayText(message));
      },
    };
    fanOuts.set(publisher, fanOut);
  }
  return fanOut;
}

/**
 * One connection's native subscriptions: a topic per (joined group, relayed type) while its socket
 * is open and the connection accepted. The hub skips the members that have the topic and publishes
 * once; every other member (not open yet, on a runtime without publish) gets the message from its
 * inbox, which relays it the same way.
 */
export class RelayTopics {
  readonly #socket: TopicPeer;
  readonly #fanOut: FanOut;
  readonly #types: ReadonlySet<string>;
  readonly #groups = new Set<string>();

  constructor(socket: TopicPeer, types: ReadonlySet<string>) {
    this.#socket = socket;
    this.#fanOut = fanOutOf(socket.publisher);
    this.#types = types;
  }

  /** The fan-out that reaches this socket for `type` messages to `group`, or null if none does. */
  fanOutFor(group: string, type: string): FanOut | null {
    return this.#groups.has(group) && this.#types.has(type) ? this.#fanOut : null;
  }

  join(group: string): void {
    if (this.#groups.has(group)) return;
    this.#groups.add(group);
    for (const type of this.#types) this.#socket.subscribe(topicOf(group, type));
  }

  leave(group: string): void {
    if (!this.#groups.delete(group)) return;
    for (const type of this.#types) this.#socket.unsubscribe(topicOf(group, type));
  }

  /** Leaves every topic: the connection is closing, and sends to it are dropped from now on. */
  clear(): void {
    for (const group of [...this.#groups]) this.leave(group);
  }
}
