import { serverContract } from "./contract.ts";
import { exhaustionContract } from "./exhaustion-contract.ts";
import { securityContract } from "./security-contract.ts";

serverContract("deno");
securityContract("deno");
exhaustionContract("deno");
