/**
 * Fernet tokens (AES-128-CBC with an HMAC-SHA256 over version, time, IV and ciphertext), as
 * channels_redis encrypts messages when `symmetric_encryption_keys` is set. Each configured key
 * string becomes a Fernet key the way channels_redis makes one: the SHA-256 of its UTF-8 bytes.
 * Like Python's `MultiFernet`, the first key encrypts and any key decrypts, so keys can be rotated
 * by putting the new one first.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { InvalidMessageError } from "../../errors.ts";

const VERSION = 0x80;
/** Version (1) + time (8) + IV (16) before the ciphertext; the HMAC (32) after it. */
const HEADER_BYTES = 25;
const HMAC_BYTES = 32;
/** How far in the future a token's time may be before it is refused, as Python's Fernet allows. */
const MAX_CLOCK_SKEW_SECONDS = 60;

/** A token that is not Fernet, was made with another key, or is too old. */
export class InvalidTokenError extends InvalidMessageError {
  constructor(reason: string) {
    super(`Cannot decrypt a channel layer message: ${reason}.`);
  }
}

interface FernetKey {
  signing: Buffer;
  encryption: Buffer;
}

/** Encrypts with the first key, decrypts with any. */
export class Fernet {
  readonly #keys: FernetKey[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new TypeError("Fernet needs at least one key.");
    this.#keys = keys.map((key) => {
      const bytes = createHash("sha256").update(key, "utf8").digest();
      return { signing: bytes.subarray(0, 16), encryption: bytes.subarray(16) };
    });
  }

  /** The token for `data`, as the ASCII bytes of its URL-safe base64 (padded, as Python writes it). */
  encrypt(data: Uint8Array, nowSeconds = Date.now() / 1000): Buffer {
    const key = this.#keys[0]!;
    const iv = randomBytes(16);
    const cipher = createCipheriv("aes-128-cbc", key.encryption, iv);
    const header = Buffer.alloc(9);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(Math.floor(nowSeconds)), 1);
    const body = Buffer.concat([header, iv, cipher.update(data), cipher.final()]);
    const mac = createHmac("sha256", key.signing).update(body).digest();
    return Buffer.from(padded(Buffer.concat([body, mac]).toString("base64url")), "ascii");
  }

  /** The data in `token`; throws `InvalidTokenError` if no key opens it or it is older than `ttlSeconds`. */
  decrypt(token: Uint8Array, ttlSeconds: number, nowSeconds = Date.now() / 1000): Uint8Array {
    const raw = Buffer.from(Buffer.from(token).toString("ascii"), "base64url");
    if (raw.length < HEADER_BYTES + 16 + HMAC_BYTES || raw[0] !== VERSION) {
      throw new InvalidTokenError("not a Fernet token");
    }
    const body = raw.subarray(0, raw.length - HMAC_BYTES);
    const mac = raw.subarray(raw.length - HMAC_BYTES);
    const key = this.#keys.find(({ signing }) =>
      timingSafeEqual(createHmac("sha256", signing).update(body).digest(), mac),
    );
    if (!key) throw new InvalidTokenError("signed with another key");
    const issued = Number(raw.readBigUInt64BE(1));
    if (issued + ttlSeconds < nowSeconds) throw new InvalidTokenError("expired");
    if (issued > nowSeconds + MAX_CLOCK_SKEW_SECONDS) throw new InvalidTokenError("issued in the future");
    try {
      const decipher = createDecipheriv("aes-128-cbc", key.encryption, raw.subarray(9, HEADER_BYTES));
      return Buffer.concat([decipher.update(body.subarray(HEADER_BYTES)), decipher.final()]);
    } catch {
      throw new InvalidTokenError("bad padding");
    }
  }
}

/** Python's base64 decoder wants the `=` padding that Node's base64url leaves off. */
function padded(base64: string): string {
  return base64 + "=".repeat((4 - (base64.length % 4)) % 4);
}
