/** The groups one connection is in: joined through the layer, and all left when it ends. */
import type { ChannelLayer } from "../layers/layer.ts";

export const NO_GROUPS: ReadonlySet<string> = new Set();

/** One connection's group memberships. */
export class Memberships {
  readonly #layer: ChannelLayer;
  /** The connection, whose `channelName` throws before it has one. */
  readonly #owner: { readonly channelName: string };
  /** Made at the first join: most connections of many apps join none. */
  #groups: Set<string> | null = null;

  constructor(layer: ChannelLayer, owner: { readonly channelName: string }) {
    this.#layer = layer;
    this.#owner = owner;
  }

  /** The groups joined and not left. */
  get names(): ReadonlySet<string> {
    return this.#groups ?? NO_GROUPS;
  }

  /** Joins `group`. */
  async add(group: string): Promise<void> {
    await this.#layer.groupAdd(group, this.#owner.channelName);
    this.#groups ??= new Set();
    this.#groups.add(group);
  }

  /** Leaves `group`. */
  async discard(group: string): Promise<void> {
    this.#groups?.delete(group);
    await this.#layer.groupDiscard(group, this.#owner.channelName);
  }

  /** Leaves every group, declared or not: memberships must not outlive the connection. */
  async leaveAll(onError: (group: string, error: unknown) => void): Promise<void> {
    if (!this.#groups) return;
    for (const group of [...this.#groups]) {
      try {
        await this.discard(group);
      } catch (error) {
        onError(group, error);
      }
    }
  }
}
