/** The groups one connection is in: joined through the layer, and all left when it ends. */
import type { ChannelLayer } from "../layers/layer.ts";

/** One connection's group memberships. */
export class Memberships {
  readonly #layer: ChannelLayer;
  /** The connection's channel; throws before it has one. */
  readonly #channel: () => string;
  #groups = new Set<string>();

  constructor(layer: ChannelLayer, channel: () => string) {
    this.#layer = layer;
    this.#channel = channel;
  }

  /** The groups joined and not left. */
  get names(): ReadonlySet<string> {
    return this.#groups;
  }

  /** Joins `group`. */
  async add(group: string): Promise<void> {
    await this.#layer.groupAdd(group, this.#channel());
    this.#groups.add(group);
  }

  /** Leaves `group`. */
  async discard(group: string): Promise<void> {
    this.#groups.delete(group);
    await this.#layer.groupDiscard(group, this.#channel());
  }

  /** Leaves every group, declared or not: memberships must not outlive the connection. */
  async leaveAll(onError: (group: string, error: unknown) => void): Promise<void> {
    for (const group of [...this.#groups]) {
      try {
        await this.discard(group);
      } catch (error) {
        onError(group, error);
      }
    }
  }
}
