import { serverContract } from "./contract.ts";

serverContract("bun");
