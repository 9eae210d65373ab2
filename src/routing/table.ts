/** The route table as text: what the server prints on start and `cli/routes.ts` prints on demand. */
import { HTTP_METHODS, type RouteTable } from "./manifest.ts";

/** One line per method and path, WebSocket paths marked `WS`, with the file that serves it. */
export function formatRouteTable(table: RouteTable): string {
  const rows: [string, string, string][] = [];
  for (const route of table.http) {
    const methods = route.app ? ["ALL"] : HTTP_METHODS.filter((method) => route.handlers[method]);
    rows.push([methods.join(","), route.path.pattern, route.file]);
  }
  for (const route of table.sockets) rows.push(["WS", route.path.pattern, route.file]);
  for (const middleware of [...table.httpMiddleware, ...table.socketMiddleware]) {
    rows.push([
      "USE",
      middleware.path.pattern === "/" ? "/*" : `${middleware.path.pattern}/*`,
      middleware.file,
    ]);
  }
  if (rows.length === 0) return "  (no routes: add files to routes/ or consumers/)";
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map(([method, path, file]) => `  ${method.padEnd(widths[0]!)}  ${path.padEnd(widths[1]!)}  ${file}`)
    .join("\n");
}
