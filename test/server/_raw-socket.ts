/**
 * A WebSocket client over raw TCP for the fuzz run: it builds frames a browser would refuse to
 * (unmasked, reserved bits, lying lengths), writes them with backpressure, and reads the server's
 * replies only to spot its close frame.
 */
import { randomBytes } from "node:crypto";
import { type Socket, connect as tcpConnect } from "node:net";

/** How a frame breaks the rules: no FIN, reserved bits set, no mask, a false length. */
export interface FrameOptions {
  fin?: boolean;
  rsv?: number;
  mask?: boolean;
  /** Length written in the header, when it should lie about the payload. */
  declaredLength?: bigint;
}

/** One WebSocket frame as a client writes it (masked unless told otherwise). */
export function wsFrame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): Uint8Array {
  const { fin = true, rsv = 0, mask = true } = options;
  const length = options.declaredLength ?? BigInt(payload.byteLength);
  const header: number[] = [(fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xf)];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126n) header.push(maskBit | Number(length));
  else if (length < 65_536n) header.push(maskBit | 126, Number(length >> 8n) & 0xff, Number(length) & 0xff);
  else {
    header.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) header.push(Number((length >> shift) & 0xffn));
  }
  const key = mask ? randomBytes(4) : null;
  const out = new Uint8Array(header.length + (key ? 4 : 0) + payload.byteLength);
  out.set(header, 0);
  let offset = header.length;
  if (key) {
    out.set(key, offset);
    offset += 4;
    for (let i = 0; i < payload.byteLength; i++) out[offset + i] = payload[i]! ^ key[i & 3]!;
  } else {
    out.set(payload, offset);
  }
  return out;
}

/** A raw TCP WebSocket client; `closeCode` is the code of the server's close frame once it came. */
export interface RawConnection {
  socket: Socket;
  closeCode: number | null;
  closed: Promise<void>;
}

/**
 * Opens a raw TCP WebSocket connection; resolves once the server answered the handshake with 101,
 * or null. Reads everything the server sends (so its writes never back up) and picks out its close.
 */
export function openRaw(url: URL, path: string): Promise<RawConnection | null> {
  return new Promise((resolve) => {
    const socket = tcpConnect(Number(url.port), url.hostname);
    const connection: RawConnection = {
      socket,
      closeCode: null,
      closed: new Promise((resolveClosed) => socket.once("close", () => resolveClosed())),
    };
    let head = "";
    let buffer: Buffer = Buffer.alloc(0);
    let upgraded = false;
    let settled = false;
    const settle = (value: RawConnection | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (value === null) socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => settle(null), 3000);
    socket.on("error", () => settle(null));
    socket.on("close", () => settle(null));
    socket.once("connect", () => {
      const key = randomBytes(16).toString("base64");
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on("data", (chunk: Buffer) => {
      if (!upgraded) {
        head += chunk.toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        if (!head.startsWith("HTTP/1.1 101")) return settle(null);
        upgraded = true;
        chunk = Buffer.from(head.slice(end + 4), "latin1");
        settle(connection);
      }
      if (connection.closeCode !== null) return;
      buffer = buffer.byteLength === 0 ? chunk : Buffer.concat([buffer, chunk]);
      // Server frames are unmasked: walk them for the close frame, dropping the rest.
      while (buffer.byteLength >= 2) {
        let length = buffer[1]! & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.byteLength < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.byteLength < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.byteLength < offset + length) return;
        if ((buffer[0]! & 0xf) === 0x8) {
          connection.closeCode = length >= 2 ? buffer.readUInt16BE(offset) : 1005;
          return;
        }
        buffer = buffer.subarray(offset + length);
      }
    });
  });
}

/** Writes `data`, waiting up to 1 s for a full socket to drain; false if the socket was already closed. */
export function writeAll(socket: Socket, data: Uint8Array): Promise<boolean> {
  if (socket.destroyed || !socket.writable) return Promise.resolve(false);
  if (socket.write(data)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.off("drain", onDrain);
      socket.off("close", onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(true); // written to the kernel; the server chose to stop reading
    const timer = setTimeout(() => done(true), 1000);
    socket.once("drain", onDrain);
    socket.once("close", onClose);
  });
}
