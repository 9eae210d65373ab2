import { serverContract } from "./contract.ts";
import { securityContract } from "./security-contract.ts";

serverContract("node");
securityContract("node");
