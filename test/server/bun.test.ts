import { serverContract } from "./contract.ts";
import { securityContract } from "./security-contract.ts";

serverContract("bun");
securityContract("bun");
