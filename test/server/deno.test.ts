import { serverContract } from "./contract.ts";

serverContract("deno");
