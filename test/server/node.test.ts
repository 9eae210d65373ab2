import { serverContract } from "./contract.ts";

serverContract("node");
