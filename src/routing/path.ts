/**
 * File path -> URL pattern, for both trees (`routes/` and `consumers/`).
 *
 * `index.ts` -> `/`, `[id].ts` -> `:id`, `[...rest].ts` -> catch-all, `(group)/` adds no segment,
 * `_middleware.ts` applies to its folder; other files or folders starting with `_` or `-`, test
 * files and type declarations are not routes. Pure string work: no file system here.
 */
import { RouteError } from "../errors.ts";

/** What a file in a route tree is. */
export type FileRole = "route" | "middleware" | "ignored";

/** How specific a segment is; lower ranks win when two patterns match the same URL. */
export const SegmentRank = { static: 0, param: 1, catchAll: 2 } as const;
type Rank = (typeof SegmentRank)[keyof typeof SegmentRank];

/** A file's place in the URL space. */
export interface RoutePath {
  /** Hono pattern: `/chat/:room`, `/files/:rest{.+}`, `/`. */
  pattern: string;
  /** One rank per URL segment, for ordering. */
  ranks: Rank[];
  /** Parameter names in order. */
  params: string[];
  /** Pattern with parameter names erased: two files with one shape claim the same URLs. */
  shape: string;
}

const SOURCE_EXTENSION = /\.(?:ts|tsx|mts|js|jsx|mjs)$/;
const NOT_A_MODULE = /\.(?:d|test|spec)\.[^.]+$/;
const PARAM_NAME = /^[A-Za-z_$][\w$]*$/;
// Characters a static segment may hold: URL-safe and free of Hono's pattern syntax (`:`, `*`, `{`).
const STATIC_SEGMENT = /^[\w.~@!$&'+,;=-]+$/;

/** Splits a tree-relative path into folder names and the file's base name without extension. */
function split(relativePath: string): { dirs: string[]; base: string } {
  const parts = relativePath.split("/").filter((part) => part !== "");
  const file = parts.pop() ?? "";
  return { dirs: parts, base: file.replace(SOURCE_EXTENSION, "") };
}

/** Says whether a tree-relative path is a route, a `_middleware` file, or not part of routing. */
export function classifyFile(relativePath: string): FileRole {
  const file = relativePath.split("/").pop() ?? "";
  if (!SOURCE_EXTENSION.test(file) || NOT_A_MODULE.test(file)) return "ignored";
  const { dirs, base } = split(relativePath);
  if (dirs.some((dir) => dir.startsWith("_") || dir.startsWith("-"))) return "ignored";
  if (base === "_middleware") return "middleware";
  if (base.startsWith("_") || base.startsWith("-")) return "ignored";
  return "route";
}

/**
 * The URL pattern of a route file.
 * @param relativePath path inside its tree, `/`-separated: `chat/[room].ts`.
 * @param file the same file as shown to users in errors: `consumers/chat/[room].ts`.
 */
export function fileToRoute(relativePath: string, file = relativePath): RoutePath {
  const { dirs, base } = split(relativePath);
  return segmentsToRoute(base === "index" ? dirs : [...dirs, base], file);
}

/** The URL pattern of a `_middleware` file's folder, for display: it applies to that folder's files. */
export function middlewareScope(relativePath: string, file = relativePath): RoutePath {
  return segmentsToRoute(split(relativePath).dirs, file);
}

function segmentsToRoute(names: string[], file: string): RoutePath {
  const parts: string[] = [];
  const shapes: string[] = [];
  const ranks: Rank[] = [];
  const params: string[] = [];
  // A (group) folder organises files without adding a segment.
  const segments = names.filter((name) => !/^\(.+\)$/.test(name));
  segments.forEach((name, index) => {
    const param = parseParam(name, file);
    if (!param) {
      if (!STATIC_SEGMENT.test(name)) {
        throw new RouteError(
          "INVALID_SEGMENT",
          file,
          `Invalid segment "${name}". A static segment may hold letters, digits and ._~@!$&'+,;=- only.`,
        );
      }
      parts.push(name);
      shapes.push(name);
      ranks.push(SegmentRank.static);
      return;
    }
    if (params.includes(param.name)) {
      throw new RouteError(
        "DUPLICATE_PARAM",
        file,
        `Parameter "${param.name}" appears twice. Each parameter of one path needs its own name.`,
      );
    }
    params.push(param.name);
    if (param.catchAll) {
      if (index !== segments.length - 1) {
        throw new RouteError(
          "CATCH_ALL_NOT_LAST",
          file,
          `Catch-all "${name}" is followed by more segments. A catch-all must be the last segment.`,
        );
      }
      parts.push(`:${param.name}{.+}`);
      shapes.push("*");
      ranks.push(SegmentRank.catchAll);
    } else {
      parts.push(`:${param.name}`);
      shapes.push(":");
      ranks.push(SegmentRank.param);
    }
  });
  return { pattern: `/${parts.join("/")}`, ranks, params, shape: `/${shapes.join("/")}` };
}

/** `[id]` -> { name: "id" }, `[...rest]` -> { name: "rest", catchAll }, a static name -> null. */
function parseParam(segment: string, file: string): { name: string; catchAll: boolean } | null {
  if (!segment.includes("[") && !segment.includes("]")) return null;
  const brackets = segment.match(/\[/g)?.length ?? 0;
  if (brackets > 1) {
    throw new RouteError(
      "MULTIPLE_PARAMS",
      file,
      `Invalid segment "${segment}". A segment can hold one parameter; put each in its own folder level.`,
    );
  }
  const match = /^\[(\.\.\.)?([^\]]*)\]$/.exec(segment);
  const name = match?.[2] ?? "";
  if (!match || !PARAM_NAME.test(name)) {
    throw new RouteError(
      "INVALID_SEGMENT",
      file,
      `Invalid segment "${segment}". A parameter fills its whole segment as [name] or [...name], ` +
        "and its name is a JavaScript identifier.",
    );
  }
  return { name, catchAll: match[1] !== undefined };
}

/**
 * Orders routes so the most specific wins: segment by segment, static before parameter before
 * catch-all; ties fall back to the pattern text, so the order never depends on the file system.
 */
export function compareRoutes(a: RoutePath, b: RoutePath): number {
  const length = Math.min(a.ranks.length, b.ranks.length);
  for (let i = 0; i < length; i++) {
    const difference = (a.ranks[i] ?? 0) - (b.ranks[i] ?? 0);
    if (difference !== 0) return difference;
  }
  if (a.ranks.length !== b.ranks.length) return b.ranks.length - a.ranks.length;
  return a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0;
}
