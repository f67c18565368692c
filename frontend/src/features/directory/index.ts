export { agentsQueryOptions, useAgents } from "./api/get-agents";
export { Directory } from "./components/directory";
